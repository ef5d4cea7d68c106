#include "coordinator/admin_membership.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "coordinator/node_id.h"
#include "kvs/shard/node_membership.h"

namespace penncloud::coordinator {
namespace {

absl::Status NotYet(const char* what) {
  return absl::UnimplementedError(std::string(what) + " is not available yet");
}

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

  LaunchRecord record = *sibling;
  record.name = absl::StrCat(prefix, id);
  record.address = address;
  record.pid = 0;
  std::filesystem::path log(sibling->log);
  record.log = (log.parent_path() / (record.name + ".log")).string();
  std::filesystem::path data(FlagValue(sibling->argv, "data_dir"));
  record.argv = {sibling->argv[0]};
  for (size_t i = 1; i < sibling->argv.size(); ++i) {
    const std::string& a = sibling->argv[i];
    bool replaced = false;
    for (const char* flag :
         {"--id=", "--peers=", "--client_addrs=", "--listen=", "--data_dir=", "--join"}) {
      replaced = replaced || a.starts_with(flag);
    }
    if (!replaced) record.argv.push_back(a);
  }
  record.argv.push_back("--join");
  record.argv.push_back(absl::StrCat("--id=", id));
  record.argv.push_back(absl::StrCat("--peers=", absl::StrJoin(peers, ",")));
  record.argv.push_back(absl::StrCat("--listen=", address));
  record.argv.push_back(absl::StrCat("--data_dir=", (data.parent_path() / record.name).string()));

  const std::string node = KvsNodeId(group, id);
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

absl::StatusOr<std::string> Membership::AddGroup() { return NotYet("adding a group"); }
absl::Status Membership::RemoveGroup(const std::string&) { return NotYet("removing a group"); }

}  // namespace penncloud::coordinator
