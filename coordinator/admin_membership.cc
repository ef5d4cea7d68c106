#include "coordinator/admin_membership.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/certificate.h"
#include "common/log.h"
#include "coordinator/node_id.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/shard/config_store.h"
#include "kvs/shard/describe.h"
#include "kvs/shard/grpc_group_steps.h"
#include "kvs/shard/node_membership.h"
#include "kvs/shard/rebalancer.h"
#include "kvs/shard/rebalancer_lease.h"

namespace penncloud::coordinator {
namespace {

// A port nobody listens on now, on `host` (the kernel picks it).
absl::StatusOr<int> FreePort(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("cannot bind on host ", host));
  }
  socklen_t len = sizeof addr;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) return absl::InternalError("no free port");
  return ntohs(addr.sin_port);
}

std::string FlagValue(const std::vector<std::string>& argv, const std::string& flag) {
  const std::string prefix = "--" + flag + "=";
  for (const std::string& a : argv) {
    if (a.starts_with(prefix)) return a.substr(prefix.size());
  }
  return "";
}

// `sibling` relaunched as another replica: every flag naming the replica itself is dropped
// and `own` (its new identity) appended; the rest (binary, config group, timing) is kept.
LaunchRecord Sibling(const LaunchRecord& sibling, std::string name, std::string address,
                     std::vector<std::string> own) {
  LaunchRecord record = sibling;
  record.name = std::move(name);
  record.address = std::move(address);
  record.pid = 0;
  std::filesystem::path log(sibling.log);
  record.log = (log.parent_path() / (record.name + ".log")).string();
  std::filesystem::path data(FlagValue(sibling.argv, "data_dir"));
  record.argv = {sibling.argv[0]};
  for (size_t i = 1; i < sibling.argv.size(); ++i) {
    const std::string& a = sibling.argv[i];
    bool replaced = false;
    for (const char* flag :
         {"--id=", "--peers=", "--client_addrs=", "--listen=", "--data_dir=", "--join",
          "--group=", "--node_name=", "--tls_cert_file=", "--tls_key_file="}) {
      replaced = replaced || a.starts_with(flag);
    }
    if (!replaced) record.argv.push_back(a);
  }
  for (std::string& flag : own) record.argv.push_back(std::move(flag));
  record.argv.push_back(absl::StrCat("--data_dir=", (data.parent_path() / record.name).string()));
  return record;
}

// The `kvs-g<group>-r<replica>` launch records, by group id.
std::optional<std::pair<uint64_t, uint64_t>> GroupAndReplica(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '-');
  uint64_t group = 0, replica = 0;
  if (parts.size() != 3 || parts[0] != "kvs" || !parts[1].starts_with("g") ||
      !parts[2].starts_with("r") || !absl::SimpleAtoi(parts[1].substr(1), &group) ||
      !absl::SimpleAtoi(parts[2].substr(1), &replica)) {
    return std::nullopt;
  }
  return std::make_pair(group, replica);
}

}  // namespace

Membership::~Membership() {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) worker_.join();
}

absl::Status Membership::RunInBackground(std::string what, std::function<absl::Status()> work) {
  std::lock_guard lock(mu_);
  if (busy_) return absl::FailedPreconditionError("another membership change is in progress");
  if (worker_.joinable()) worker_.join();
  busy_ = true;
  worker_ = std::thread([this, what = std::move(what), work = std::move(work)] {
    absl::Status s = work();
    if (s.ok()) {
      PC_LOG(kInfo, "coordinator.membership_done")("change", what);
    } else {
      PC_LOG(kError, "coordinator.membership_failed")("change", what)("error", s.ToString());
    }
    busy_ = false;
  });
  return absl::OkStatus();
}

absl::StatusOr<std::string> Membership::AddReplica(const std::string& group) {
  uint64_t group_id = 0;
  if (config_.empty() || !absl::SimpleAtoi(group, &group_id)) {
    return absl::InvalidArgumentError("replicas can be added to data groups of a sharded store");
  }
  if (busy_) return absl::FailedPreconditionError("another membership change is in progress");
  ClusterView view = poller_->View();
  const cluster::Group* entry = view.map ? view.map->FindGroup(group_id) : nullptr;
  if (!entry) return absl::NotFoundError(absl::StrCat("no group ", group));

  // A sibling to copy, and an id above every one the group has used.
  std::optional<LaunchRecord> sibling;
  uint64_t max_id = 0;
  std::vector<std::string> peers;
  for (const cluster::Replica& r : entry->replicas()) {
    max_id = std::max(max_id, r.id());
    peers.push_back(
        absl::StrCat(r.id(), "=", r.peer_address().empty() ? r.address() : r.peer_address()));
    if (!sibling) sibling = launcher_->Find("kvs", r.address());
  }
  for (const ReplicaView& r : view.replicas) {
    if (r.group == group) max_id = std::max(max_id, r.replica);
  }
  const std::string prefix = absl::StrCat("kvs-g", group, "-r");
  for (const LaunchRecord& r : launcher_->Records()) {
    uint64_t id = 0;
    if (r.name.starts_with(prefix) && absl::SimpleAtoi(r.name.substr(prefix.size()), &id)) {
      max_id = std::max(max_id, id);
    }
  }
  if (!sibling) {
    return absl::FailedPreconditionError(
        absl::StrCat("no launch record of a replica of group ", group, " to start a new one from"));
  }
  const uint64_t id = max_id + 1;
  const std::string host = sibling->address.substr(0, sibling->address.rfind(':'));
  absl::StatusOr<int> port = FreePort(host);
  if (!port.ok()) return port.status();
  const std::string address = absl::StrCat(host, ":", *port);
  peers.push_back(absl::StrCat(id, "=", address));

  LaunchRecord record = Sibling(
      *sibling, absl::StrCat(prefix, id), address,
      {"--join", absl::StrCat("--group=", group_id), absl::StrCat("--id=", id),
       absl::StrCat("--peers=", absl::StrJoin(peers, ",")), absl::StrCat("--listen=", address),
       absl::StrCat("--node_name=", KvsNodeId(group, id))});

  const std::string node = KvsNodeId(group, id);
  // The new replica proves its own identity: its certificate is issued from the cluster
  // CA, when that CA's key is at hand (the local cluster start.sh made); otherwise the
  // operator must have put <node>.crt/.key in the TLS folder beforehand.
  if (const std::string tls_dir = FlagValue(record.argv, "tls_dir"); !tls_dir.empty()) {
    if (absl::Status s =
            tls::IssueCertificate(tls_dir, node, tls::Identity::Replica(group_id, id), {host});
        !s.ok()) {
      return s;
    }
  }
  absl::Status started = RunInBackground(
      absl::StrCat("add ", node), [this, record, group_id, id, address]() -> absl::Status {
        absl::StatusOr<LaunchRecord> launched = launcher_->Start(record);
        if (!launched.ok()) return launched.status();
        kvs::shard::NodeChangeOptions options;
        options.timeout = std::chrono::seconds(120);
        options.progress = [](std::string_view line) {
          PC_LOG(kInfo, "coordinator.membership")("step", std::string(line));
        };
        return kvs::shard::AddReplica({.config = config_, .group = group_id, .addresses = {}},
                                      {.id = id, .address = address, .peer_address = ""}, options);
      });
  if (!started.ok()) return started;
  return node;
}

absl::Status Membership::RemoveReplica(const std::string& group, const std::string& node_id) {
  uint64_t group_id = 0;
  if (config_.empty() || !absl::SimpleAtoi(group, &group_id)) {
    return absl::InvalidArgumentError(
        "replicas can be removed from data groups of a sharded store");
  }
  std::optional<KvsNodeName> name = ParseKvsNodeId(node_id);
  if (!name) return absl::InvalidArgumentError(absl::StrCat("bad node id '", node_id, "'"));
  if (name->group != group) {
    return absl::InvalidArgumentError(absl::StrCat(node_id, " is not in group ", group));
  }
  ClusterView view = poller_->View();
  const cluster::Group* entry = view.map ? view.map->FindGroup(group_id) : nullptr;
  if (!entry) return absl::NotFoundError(absl::StrCat("no group ", group));
  std::string address;
  for (const cluster::Replica& r : entry->replicas()) {
    if (r.id() == name->replica) address = r.address();
  }
  if (address.empty()) return absl::NotFoundError(absl::StrCat("no replica ", node_id));
  const uint64_t id = name->replica;
  return RunInBackground(
      absl::StrCat("remove ", node_id), [this, group_id, id, address]() -> absl::Status {
        kvs::shard::NodeChangeOptions options;
        options.timeout = std::chrono::seconds(60);
        options.progress = [](std::string_view line) {
          PC_LOG(kInfo, "coordinator.membership")("step", std::string(line));
        };
        absl::Status s = kvs::shard::RemoveReplica(
            {.config = config_, .group = group_id, .addresses = {}}, id, options);
        if (!s.ok()) return s;
        // Out of the group: its process has nothing left to do.
        std::optional<LaunchRecord> record = launcher_->Find("kvs", address);
        if (record && Launcher::IsRunning(*record)) {
          return launcher_->Stop(*record);
        }
        return absl::OkStatus();
      });
}

absl::Status Membership::Rebalance(
    const std::function<absl::StatusOr<cluster::ClusterMap>(const kvs::shard::ClusterMap&)>& plan) {
  kvs::ReplicaGroupOptions options;
  options.deadline = std::chrono::seconds(10);
  kvs::ReplicaGroupClient config(absl::StrSplit(config_, ',', absl::SkipWhitespace()), options);
  kvs::shard::ConfigStore store(config);
  absl::StatusOr<kvs::shard::ClusterMap> planned = store.Update(plan);
  if (!planned.ok()) return planned.status();
  kvs::shard::GrpcGroupSteps steps(store, options);
  kvs::shard::RebalancerLease lease(config, "coordinator admin console", absl::Seconds(30));
  kvs::shard::Rebalancer rebalancer(store, steps, {.parallel = 4, .lease = &lease});
  // Every step is recorded in the map, so a run cut short (a group still electing its
  // first leader, a leader change) resumes where it stopped.
  absl::Status s;
  for (int attempt = 0; attempt < 30; ++attempt) {
    s = rebalancer.Run();
    if (s.ok()) return s;
    PC_LOG(kWarn, "coordinator.rebalance_retry")("error", s.ToString());
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  return s;
}

absl::StatusOr<std::string> Membership::AddGroup() {
  if (config_.empty()) {
    return absl::InvalidArgumentError("groups can be added to a sharded store only");
  }
  if (busy_) return absl::FailedPreconditionError("another membership change is in progress");
  ClusterView view = poller_->View();
  if (!view.map) return absl::UnavailableError("the cluster map has not been read yet");
  if (view.map->proto().migrations_size() > 0) {
    return absl::FailedPreconditionError("a rebalance is in progress");
  }
  // A replica of any data group to copy, and a group id above every one used so far.
  std::optional<LaunchRecord> sibling;
  uint64_t group_id = 0;
  for (const cluster::Group& g : view.map->proto().groups()) {
    group_id = std::max(group_id, g.id());
    for (const cluster::Replica& r : g.replicas()) {
      if (!sibling) sibling = launcher_->Find("kvs", r.address());
    }
  }
  for (const LaunchRecord& r : launcher_->Records()) {
    if (auto ids = GroupAndReplica(r.name)) group_id = std::max(group_id, ids->first);
  }
  ++group_id;
  if (!sibling) {
    return absl::FailedPreconditionError("no launch record of a data replica to start from");
  }
  const std::string host = sibling->address.substr(0, sibling->address.rfind(':'));
  std::vector<std::string> addresses, peers;
  for (int replica = 1; replica <= 3; ++replica) {
    absl::StatusOr<int> port = FreePort(host);
    if (!port.ok()) return port.status();
    addresses.push_back(absl::StrCat(host, ":", *port));
    peers.push_back(absl::StrCat(replica, "=", addresses.back()));
  }
  std::vector<LaunchRecord> records;
  const std::string group_name = absl::StrCat(group_id);
  for (int replica = 1; replica <= 3; ++replica) {
    records.push_back(Sibling(*sibling, absl::StrCat("kvs-g", group_id, "-r", replica),
                              addresses[replica - 1],
                              {absl::StrCat("--group=", group_id), absl::StrCat("--id=", replica),
                               absl::StrCat("--node_name=", KvsNodeId(group_name, replica)),
                               absl::StrCat("--peers=", absl::StrJoin(peers, ",")),
                               absl::StrCat("--listen=", addresses[replica - 1])}));
  }
  absl::StatusOr<cluster::Group> group =
      kvs::shard::ParseGroup(group_id, absl::StrJoin(peers, ","));
  if (!group.ok()) return group.status();
  absl::Status started = RunInBackground(
      absl::StrCat("add group ", group_id), [this, records, group = *group]() -> absl::Status {
        for (const LaunchRecord& record : records) {
          if (absl::StatusOr<LaunchRecord> s = launcher_->Start(record); !s.ok()) {
            return s.status();
          }
        }
        return Rebalance([&](const kvs::shard::ClusterMap& current) {
          return kvs::shard::PlanAddGroup(current, group);
        });
      });
  if (!started.ok()) return started;
  return absl::StrCat(group_id);
}

absl::Status Membership::RemoveGroup(const std::string& group) {
  uint64_t group_id = 0;
  if (config_.empty() || !absl::SimpleAtoi(group, &group_id)) {
    return absl::InvalidArgumentError("data groups of a sharded store can be removed");
  }
  ClusterView view = poller_->View();
  if (!view.map) return absl::UnavailableError("the cluster map has not been read yet");
  if (!view.map->FindGroup(group_id)) return absl::NotFoundError(absl::StrCat("no group ", group));
  // Refused at once when the plan is impossible (the last group, a rebalance under way).
  if (absl::StatusOr<cluster::ClusterMap> plan = kvs::shard::PlanRemoveGroup(*view.map, group_id);
      !plan.ok()) {
    return absl::FailedPreconditionError(plan.status().message());
  }
  return RunInBackground(absl::StrCat("remove group ", group), [this, group_id]() -> absl::Status {
    absl::Status moved = Rebalance([&](const kvs::shard::ClusterMap& current) {
      return kvs::shard::PlanRemoveGroup(current, group_id);
    });
    if (!moved.ok()) return moved;
    // Its ranges live elsewhere now and the map no longer names it: its processes go.
    for (const LaunchRecord& record : launcher_->Records()) {
      auto ids = GroupAndReplica(record.name);
      if (ids && ids->first == group_id && Launcher::IsRunning(record)) {
        if (absl::Status s = launcher_->Stop(record); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace penncloud::coordinator
