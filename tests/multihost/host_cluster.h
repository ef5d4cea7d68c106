// PennCloud spread over the hosts of a VirtualNetwork, as a deployment spreads it over
// machines. Every host runs a replica of the config group and of data group 1 (replica id =
// host number) and a frontend; two hosts run a coordinator, two others SMTP, POP3 and IMAP.
// Every host uses the same ports on its own address, every address comes from the flags,
// and every host has its own TLS folder holding the CA and only its own certificates, each
// naming the host's address. Processes run inside their host's namespace
// (`ip netns exec`); a host can lose power (every process SIGKILLed at once) and come back,
// or be rolled to a new release.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/multihost/virtual_network.h"
#include "tests/support/process.h"

namespace penncloud::testing {

struct HostClusterOptions {
  std::vector<int> coordinator_hosts = {0, 1};
  std::vector<int> mail_hosts = {2, 3};
};

class HostCluster {
 public:
  static constexpr int kConfigPort = 7001;
  static constexpr int kDataPort = 7011;  // data group 1
  static constexpr int kHttpPort = 8000;
  static constexpr int kCoordinatorGrpcPort = 8100;
  static constexpr int kCoordinatorMetricsPort = 18000;
  static constexpr int kFrontendPort = 8001;
  static constexpr int kSmtpPort = 2500;
  static constexpr int kPop3Port = 11000;
  static constexpr int kImapPort = 14300;

  // Starts the replicas, stores the cluster map, starts the rest and waits until healthy.
  static absl::StatusOr<std::unique_ptr<HostCluster>> Start(VirtualNetwork* net, std::string dir,
                                                            HostClusterOptions options = {});
  ~HostCluster();  // SIGKILLs every process

  const std::string& dir() const { return dir_; }
  const HostClusterOptions& options() const { return options_; }
  std::string kvs_spec() const { return "config=" + Addresses(0); }
  // Client addresses of group g's replicas (0: the config group), comma-separated.
  std::string Addresses(int group) const;

  // Power loss: every process of host h SIGKILLed at once; PowerOn starts them again with
  // the same flags and data.
  void PowerOff(int h);
  absl::Status PowerOn(int h);
  // One process of host h by name ("coordinator", "frontend", "kvs-g1", ...).
  void Kill(int h, const std::string& process);
  absl::Status Restart(int h, const std::string& process);

  // The host whose replica leads group g (0: config), or an error if the replicas that
  // answer do not agree on one.
  absl::StatusOr<int> LeaderHost(int group);
  // Names of the nodes coordinator `c` (an index into coordinator_hosts) lists as healthy.
  absl::StatusOr<std::set<std::string>> HealthyAt(int c);
  // Healthy: every replica of every group answers and names the same leader, and every
  // coordinator lists every frontend and mail server as healthy.
  absl::Status WaitHealthy(std::chrono::milliseconds timeout);

  // A rolling upgrade's step on host h: every process gets SIGTERM at once and must drain and
  // exit 0, then each starts again with the same flags and data from the binary of the same
  // name in `bin_dir` (the new release).
  absl::Status Upgrade(int h, const std::string& bin_dir);
  // The executable process `name` of host h runs now, as the kernel reports it.
  absl::StatusOr<std::string> RunningBinary(int h, const std::string& name) const;
  // Hosts that hold a replica of group g (0: config), and hosts not retired.
  const std::set<int>& Members(int group) const { return members_[group]; }
  std::vector<int> ActiveHosts() const;

  // The names nodes of host h register with (frontend, and mail servers if it has them).
  std::vector<std::string> RegisteredNames(int h) const;

  // Membership changes an operator makes with kvsctl (docs/sharding.md section 7). A new
  // host of the network (VirtualNetwork::AddHost) joins data group 1 in place of host
  // `from`'s replica, which then stops.
  absl::Status MoveDataReplica(int from, int to);
  // Host h leaves for good: its config replica is removed from the group, then every
  // process stops. It must hold no data replica any more.
  absl::Status Retire(int h);

 private:
  struct Node {
    std::string name;  // within the host: "kvs-config", "kvs-g1", "frontend", "coordinator", ...
    std::string binary;
    std::vector<std::string> args;
    Process process;
  };

  HostCluster(VirtualNetwork* net, std::string dir, HostClusterOptions options)
      : net_(net), dir_(std::move(dir)), options_(std::move(options)) {}
  absl::Status IssueCertificates(int h);
  // Adds node `name` to host h and starts it; its certificate is `node_name` in the host's
  // TLS folder.
  absl::Status Launch(int h, const std::string& name, const std::string& binary,
                      std::vector<std::string> args);
  absl::Status StartNode(int h, Node& node);
  absl::Status StartReplicas(int h);
  absl::Status StartServices(int h);
  absl::Status Initialize();
  absl::Status Healthy();
  Node* Find(int h, const std::string& name);
  const Node* Find(int h, const std::string& name) const;
  absl::Status Kvsctl(const std::vector<std::string>& args);
  bool Active(int h) const { return !retired_.contains(h); }

  VirtualNetwork* net_;
  std::string dir_;
  HostClusterOptions options_;
  std::vector<std::vector<Node>> nodes_;  // by host
  std::set<int> members_[2];              // hosts with a replica of the config group, group 1
  std::set<int> retired_;                 // hosts gone for good
};

}  // namespace penncloud::testing
