#include "tests/multihost/host_cluster.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "kvs/client/replica_group_client.h"
#include "proto/coordinator.grpc.pb.h"
#include "tests/support/test_pki.h"

namespace penncloud::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr char kAdminPassword[] = "multihost-admin-password";

std::string HostName(int h) { return absl::StrCat("h", h + 1); }

// The node name (and certificate file) of process `name` on host h.
std::string NodeName(int h, const std::string& name) {
  if (name == "kvs-config") return absl::StrCat("kvs-config-", h + 1);
  if (name == "kvs-g1") return absl::StrCat("kvs-g1-", h + 1);
  return absl::StrCat(name, "-", HostName(h));
}

}  // namespace

std::string HostCluster::Addresses(int group) const {
  std::vector<std::string> out;
  for (int h : members_[group]) {
    out.push_back(absl::StrCat(net_->address(h), ":", group == 0 ? kConfigPort : kDataPort));
  }
  return absl::StrJoin(out, ",");
}

std::vector<std::string> HostCluster::RegisteredNames(int h) const {
  std::vector<std::string> names = {NodeName(h, "frontend")};
  if (std::ranges::count(options_.mail_hosts, h) > 0) {
    for (const char* kind : {"smtp", "pop3", "imap"}) names.push_back(NodeName(h, kind));
  }
  return names;
}

absl::StatusOr<std::unique_ptr<HostCluster>> HostCluster::Start(VirtualNetwork* net,
                                                                std::string dir,
                                                                HostClusterOptions options) {
  TestPki::Shared();  // the CA, and the test's own admin credentials for its checks
  std::unique_ptr<HostCluster> cluster(new HostCluster(net, std::move(dir), std::move(options)));
  std::ofstream(cluster->dir_ + "/admin-password") << kAdminPassword << "\n";
  cluster->nodes_.resize(net->hosts());
  for (int h = 0; h < net->hosts(); ++h) {
    cluster->members_[0].insert(h);
    cluster->members_[1].insert(h);
    if (absl::Status s = cluster->IssueCertificates(h); !s.ok()) return s;
  }
  for (int h = 0; h < net->hosts(); ++h) {
    if (absl::Status s = cluster->StartReplicas(h); !s.ok()) return s;
  }
  if (absl::Status s = cluster->Initialize(); !s.ok()) return s;
  for (int h = 0; h < net->hosts(); ++h) {
    if (absl::Status s = cluster->StartServices(h); !s.ok()) return s;
  }
  if (absl::Status s = cluster->WaitHealthy(90s); !s.ok()) return s;
  return cluster;
}

HostCluster::~HostCluster() {
  for (int h = 0; h < static_cast<int>(nodes_.size()); ++h) PowerOff(h);
}

absl::Status HostCluster::IssueCertificates(int h) {
  const std::string tls_dir = absl::StrCat(dir_, "/", HostName(h), "/tls");
  std::filesystem::create_directories(tls_dir);
  ::chmod(tls_dir.c_str(), 0700);
  TestPki& ca = TestPki::Shared();
  std::filesystem::copy_file(ca.ca_file(), tls_dir + "/ca.crt",
                             std::filesystem::copy_options::overwrite_existing);
  std::vector<std::pair<std::string, std::string>> identities = {
      {NodeName(h, "kvs-config"), absl::StrCat("replica/0/", h + 1)},
      {NodeName(h, "kvs-g1"), absl::StrCat("replica/1/", h + 1)},
      {NodeName(h, "frontend"), "service/frontend/" + NodeName(h, "frontend")},
  };
  if (std::ranges::count(options_.coordinator_hosts, h) > 0) {
    identities.push_back({NodeName(h, "coordinator"), "coordinator/" + NodeName(h, "coordinator")});
  }
  if (std::ranges::count(options_.mail_hosts, h) > 0) {
    for (const std::string kind : {"smtp", "pop3", "imap"}) {
      identities.push_back(
          {NodeName(h, kind), absl::StrCat("service/", kind, "/", NodeName(h, kind))});
    }
  }
  // Issued in the CA's folder under a name of this run, then moved to the host, which holds
  // only its own keys.
  for (const auto& [node, identity] : identities) {
    const std::string issued = absl::StrCat(net_->namespace_name(h), ".", node);
    if (absl::Status s = net_->Run({"/bin/bash", SourcePath("scripts/lib/tls.sh"), "issue",
                                    ca.dir(), issued, identity, net_->address(h)});
        !s.ok()) {
      return s;
    }
    for (const char* ext : {".key", ".crt"}) {
      std::filesystem::rename(ca.dir() + "/" + issued + ext, tls_dir + "/" + node + ext);
    }
  }
  return absl::OkStatus();
}

absl::Status HostCluster::StartNode(int h, Node& node) {
  std::vector<std::string> argv = net_->Exec(h);
  argv.push_back(node.binary);
  argv.insert(argv.end(), node.args.begin(), node.args.end());
  absl::StatusOr<Process> p =
      Process::Start(argv[0], std::vector<std::string>(argv.begin() + 1, argv.end()),
                     absl::StrCat(dir_, "/", HostName(h), "/", node.name, ".log"));
  if (!p.ok()) return p.status();
  node.process = std::move(*p);
  return absl::OkStatus();
}

absl::Status HostCluster::Launch(int h, const std::string& name, const std::string& binary,
                                 std::vector<std::string> args) {
  args.push_back("--node_name=" + NodeName(h, name));
  args.push_back(absl::StrCat("--tls_dir=", dir_, "/", HostName(h), "/tls"));
  nodes_[h].push_back(Node{name, BinaryPath(binary), std::move(args), Process()});
  return StartNode(h, nodes_[h].back());
}

absl::Status HostCluster::StartReplicas(int h) {
  const std::string host_dir = absl::StrCat(dir_, "/", HostName(h));
  auto peers = [&](int port) {
    std::vector<std::string> out;
    for (int p = 0; p < static_cast<int>(nodes_.size()); ++p) {
      out.push_back(absl::StrCat(p + 1, "=", net_->address(p), ":", port));
    }
    return absl::StrJoin(out, ",");
  };
  const std::string id = absl::StrCat("--id=", h + 1);
  if (absl::Status s =
          Launch(h, "kvs-config", "kvs_server",
                 {id, "--peers=" + peers(kConfigPort), "--data_dir=" + host_dir + "/kvs-config"});
      !s.ok()) {
    return s;
  }
  return Launch(h, "kvs-g1", "kvs_server",
                {id, "--peers=" + peers(kDataPort), "--group=1", "--config=" + Addresses(0),
                 "--data_dir=" + host_dir + "/kvs-g1"});
}

absl::Status HostCluster::Initialize() {
  std::vector<std::string> members;
  for (int h : members_[1]) {
    members.push_back(absl::StrCat(h + 1, "=", net_->address(h), ":", kDataPort));
  }
  // The config group elects its leader meanwhile: kvsctl retries until its deadline.
  absl::StatusOr<Process> init =
      Process::Start(BinaryPath("kvsctl"),
                     {"--config=" + Addresses(0), "--timeout_ms=60000", "cluster", "init",
                      "1@" + absl::StrJoin(members, ",")},
                     dir_ + "/kvsctl.log");
  if (!init.ok()) return init.status();
  if (init->Wait(90s) != 0) return absl::InternalError("kvsctl cluster init failed; see " + dir_);
  return absl::OkStatus();
}

absl::Status HostCluster::Kvsctl(const std::vector<std::string>& args) {
  absl::StatusOr<Process> p = Process::Start(BinaryPath("kvsctl"), args, dir_ + "/kvsctl.log");
  if (!p.ok()) return p.status();
  if (p->Wait(120s) != 0) {
    return absl::InternalError(
        absl::StrCat("kvsctl ", absl::StrJoin(args, " "), " failed; see ", dir_, "/kvsctl.log"));
  }
  return absl::OkStatus();
}

absl::Status HostCluster::MoveDataReplica(int from, int to) {
  if (static_cast<int>(nodes_.size()) <= to) nodes_.resize(to + 1);
  const std::string tls_dir = absl::StrCat(dir_, "/", HostName(to), "/tls");
  std::filesystem::create_directories(tls_dir);
  ::chmod(tls_dir.c_str(), 0700);
  TestPki& ca = TestPki::Shared();
  std::filesystem::copy_file(ca.ca_file(), tls_dir + "/ca.crt",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string node = NodeName(to, "kvs-g1");
  const std::string issued = absl::StrCat(net_->namespace_name(to), ".", node);
  if (absl::Status s = net_->Run({"/bin/bash", SourcePath("scripts/lib/tls.sh"), "issue", ca.dir(),
                                  issued, absl::StrCat("replica/1/", to + 1), net_->address(to)});
      !s.ok()) {
    return s;
  }
  for (const char* ext : {".key", ".crt"}) {
    std::filesystem::rename(ca.dir() + "/" + issued + ext, tls_dir + "/" + node + ext);
  }
  // The joining replica reaches the group through the current members and itself.
  std::vector<std::string> peers;
  for (int h : members_[1])
    peers.push_back(absl::StrCat(h + 1, "=", net_->address(h), ":", kDataPort));
  const std::string address = absl::StrCat(net_->address(to), ":", kDataPort);
  peers.push_back(absl::StrCat(to + 1, "=", address));
  if (absl::Status s =
          Launch(to, "kvs-g1", "kvs_server",
                 {absl::StrCat("--id=", to + 1), "--join", "--peers=" + absl::StrJoin(peers, ","),
                  "--group=1", "--config=" + Addresses(0),
                  absl::StrCat("--data_dir=", dir_, "/", HostName(to), "/kvs-g1")});
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          Kvsctl({"--config=" + Addresses(0), "--node_timeout_ms=90000", "node", "replace", "1",
                  std::to_string(from + 1), std::to_string(to + 1), address});
      !s.ok()) {
    return s;
  }
  members_[1].erase(from);
  members_[1].insert(to);
  if (Node* old = Find(from, "kvs-g1")) old->process.Terminate();
  return absl::OkStatus();
}

absl::Status HostCluster::Retire(int h) {
  if (members_[1].contains(h)) return absl::FailedPreconditionError("host holds a data replica");
  if (absl::Status s = Kvsctl({"--group=" + Addresses(0), "--node_timeout_ms=90000", "node",
                               "remove", std::to_string(h + 1)});
      !s.ok()) {
    return s;
  }
  members_[0].erase(h);
  retired_.insert(h);
  for (Node& n : nodes_[h]) n.process.Terminate();
  return absl::OkStatus();
}

absl::Status HostCluster::StartServices(int h) {
  const std::string address = net_->address(h);
  std::vector<std::string> coordinators;
  for (int c : options_.coordinator_hosts) {
    coordinators.push_back(absl::StrCat(net_->address(c), ":", kCoordinatorGrpcPort));
  }
  const std::string beat_to = "--coordinator=" + absl::StrJoin(coordinators, ",");
  const std::string kvs = "--kvs=" + kvs_spec();
  if (std::ranges::count(options_.coordinator_hosts, h) > 0) {
    if (absl::Status s =
            Launch(h, "coordinator", "coordinator",
                   {"--address=" + address, absl::StrCat("--http_port=", kHttpPort),
                    absl::StrCat("--grpc_port=", kCoordinatorGrpcPort), kvs, "--heartbeat_ms=250",
                    "--down_after_ms=2000", "--io_threads=1",
                    "--admin_password_file=" + dir_ + "/admin-password",
                    // Every simulated user signs up from one address, the load host's.
                    "--signups_per_hour_per_address=1000",
                    absl::StrCat("--metrics_listen=", address, ":", kCoordinatorMetricsPort)});
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s =
          Launch(h, "frontend", "frontend",
                 {"--address=" + address, absl::StrCat("--port=", kFrontendPort), kvs, beat_to,
                  "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=16"});
      !s.ok()) {
    return s;
  }
  if (std::ranges::count(options_.mail_hosts, h) == 0) return absl::OkStatus();
  const std::string state = absl::StrCat("--state_dir=", dir_, "/", HostName(h), "/state");
  const std::vector<std::string> common = {"--address=" + address, kvs, beat_to, state};
  struct Mail {
    const char* kind;
    std::vector<std::string> ports;
  };
  for (const Mail& m : {Mail{"smtp",
                             {absl::StrCat("--port=", kSmtpPort), "--smtps_port=4650",
                              // No resolver inside the namespaces: no SPF/DKIM look-ups.
                              "--verify_inbound=false"}},
                        Mail{"pop3", {absl::StrCat("--port=", kPop3Port), "--pop3s_port=9950"}},
                        Mail{"imap", {absl::StrCat("--port=", kImapPort), "--imaps_port=9930"}}}) {
    std::vector<std::string> args = common;
    args.insert(args.end(), m.ports.begin(), m.ports.end());
    if (absl::Status s = Launch(h, m.kind, m.kind, std::move(args)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void HostCluster::PowerOff(int h) {
  // All at once, as when the power goes: no process outlives another by a reap.
  for (Node& n : nodes_[h]) {
    if (n.process.running()) ::kill(n.process.pid(), SIGKILL);
  }
  for (Node& n : nodes_[h]) n.process.Kill();
}

absl::Status HostCluster::PowerOn(int h) {
  for (Node& n : nodes_[h]) {
    if (n.process.running()) continue;
    if (absl::Status s = StartNode(h, n); !s.ok()) return s;
  }
  return absl::OkStatus();
}

const HostCluster::Node* HostCluster::Find(int h, const std::string& name) const {
  for (const Node& n : nodes_[h]) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

HostCluster::Node* HostCluster::Find(int h, const std::string& name) {
  return const_cast<Node*>(std::as_const(*this).Find(h, name));
}

std::vector<int> HostCluster::ActiveHosts() const {
  std::vector<int> out;
  for (int h = 0; h < static_cast<int>(nodes_.size()); ++h) {
    if (Active(h) && !nodes_[h].empty()) out.push_back(h);
  }
  return out;
}

absl::Status HostCluster::Upgrade(int h, const std::string& bin_dir) {
  // Every drain is bounded by 10 s; SMTP may wait longer for a relay delivery in flight.
  constexpr auto kDrainBound = 35s;
  for (Node& n : nodes_[h]) n.process.Terminate();
  for (Node& n : nodes_[h]) {
    const int status = n.process.Wait(kDrainBound);
    if (status == -1) {
      n.process.Kill();
      return absl::DeadlineExceededError(absl::StrCat(
          n.name, " on ", HostName(h), " still running ", kDrainBound.count(), " s after SIGTERM"));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::InternalError(absl::StrCat(n.name, " on ", HostName(h), " exited with status ",
                                              status, " after SIGTERM; see ", dir_, "/",
                                              HostName(h), "/", n.name, ".log"));
    }
  }
  for (Node& n : nodes_[h]) {
    n.binary = bin_dir + "/" + std::filesystem::path(n.binary).filename().string();
    if (absl::Status s = StartNode(h, n); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HostCluster::RunningBinary(int h, const std::string& name) const {
  const Node* n = Find(h, name);
  if (n == nullptr || !n->process.running()) {
    return absl::NotFoundError(absl::StrCat(name, " is not running on ", HostName(h)));
  }
  std::error_code error;
  const auto exe =
      std::filesystem::read_symlink(absl::StrCat("/proc/", n->process.pid(), "/exe"), error);
  if (error) return absl::UnavailableError(error.message());
  return exe.string();
}

void HostCluster::Kill(int h, const std::string& process) {
  if (Node* n = Find(h, process)) n->process.Kill();
}

absl::Status HostCluster::Restart(int h, const std::string& process) {
  Node* n = Find(h, process);
  if (n == nullptr) return absl::NotFoundError(process + " on " + HostName(h));
  return StartNode(h, *n);
}

absl::StatusOr<int> HostCluster::LeaderHost(int group) {
  kvs::ReplicaGroupClient client(absl::StrSplit(Addresses(group), ','),
                                 {.deadline = 2s, .attempt_timeout = 1s});
  std::map<uint64_t, int> votes;
  for (const auto& [address, status] : client.StatusAll()) {
    if (status.ok() && status->leader_id() != 0) ++votes[status->leader_id()];
  }
  for (const auto& [leader, count] : votes) {
    if (2 * count > static_cast<int>(members_[group].size())) return static_cast<int>(leader) - 1;
  }
  return absl::UnavailableError(absl::StrCat("group ", group, " has no agreed leader"));
}

absl::StatusOr<std::set<std::string>> HostCluster::HealthyAt(int c) {
  const std::string address =
      absl::StrCat(net_->address(options_.coordinator_hosts.at(c)), ":", kCoordinatorGrpcPort);
  auto stub = coordinator::pb::Coordinator::NewStub(
      grpc::CreateChannel(address, tls::ChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 1s);
  coordinator::pb::ListNodesResponse res;
  if (grpc::Status s = stub->ListNodes(&ctx, {}, &res); !s.ok()) {
    return absl::UnavailableError(address + ": " + s.error_message());
  }
  std::set<std::string> healthy;
  for (const auto& n : res.nodes()) {
    if (n.healthy()) healthy.insert(n.name());
  }
  return healthy;
}

absl::Status HostCluster::Healthy() {
  for (int group : {0, 1}) {
    kvs::ReplicaGroupClient client(absl::StrSplit(Addresses(group), ','),
                                   {.deadline = 2s, .attempt_timeout = 1s});
    std::set<uint64_t> leaders;
    for (const auto& [address, status] : client.StatusAll()) {
      if (!status.ok()) return absl::UnavailableError(address + " does not answer");
      leaders.insert(status->leader_id());
    }
    if (leaders.size() != 1 || *leaders.begin() == 0) {
      return absl::UnavailableError(
          absl::StrCat("group ", group, "'s replicas disagree on a leader"));
    }
  }
  for (int c = 0; c < static_cast<int>(options_.coordinator_hosts.size()); ++c) {
    absl::StatusOr<std::set<std::string>> healthy = HealthyAt(c);
    if (!healthy.ok()) return healthy.status();
    for (int h = 0; h < static_cast<int>(nodes_.size()); ++h) {
      if (!Active(h) || Find(h, "frontend") == nullptr) continue;  // gone, or replicas only
      for (const std::string& name : RegisteredNames(h)) {
        if (!healthy->contains(name)) {
          return absl::UnavailableError(absl::StrCat("coordinator ", c, " lacks ", name));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status HostCluster::WaitHealthy(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  absl::Status last = Healthy();
  while (!last.ok() && Clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    last = Healthy();
  }
  if (!last.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat("not healthy: ", last.message(), "; see ", dir_));
  }
  return absl::OkStatus();
}

}  // namespace penncloud::testing
