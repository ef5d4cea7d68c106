// A whole web tier for process tests: a real KVS replica group, the coordinator and N
// frontends, all on free loopback ports, in one temporary directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/coordinator.pb.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"

namespace penncloud::testing {

struct WebClusterOptions {
  int frontends = 1;
  int down_after_ms = 3000;
  int heartbeat_ms = 1000;
  std::vector<std::string> coordinator_flags = {};  // more coordinator flags (HTTPS, limits)
  std::vector<std::string> frontend_flags = {};     // more flags for every frontend
  // The coordinator serves HTTPS too (:8443 in production), on a free port, with a
  // certificate for 127.0.0.1 from the test CA (TestPki::Shared).
  bool https = false;
};

class WebCluster {
 public:
  static absl::StatusOr<std::unique_ptr<WebCluster>> Start(WebClusterOptions options = {});
  ~WebCluster();

  int http_port() const { return http_port_; }        // the coordinator's :8000
  int metrics_port() const { return metrics_port_; }  // the coordinator's /metrics
  int https_port() const { return https_port_; }      // with WebClusterOptions::https
  std::string https_ca_file() const;                  // what verifies the HTTPS certificate
  int frontend_port(int i) const { return frontend_ports_[i]; }
  std::string frontend_address(int i) const;
  const std::string& kvs_spec() const { return kvs_->spec(); }

  void KillFrontend(int i);
  void StopFrontend(int i) { frontends_[i].Stop(); }          // SIGSTOP: frozen, sockets open
  void ContinueFrontend(int i) { frontends_[i].Continue(); }  // SIGCONT
  absl::Status RestartFrontend(int i);

  // The coordinator's node table (gRPC ListNodes).
  absl::StatusOr<std::vector<coordinator::pb::NodeInfo>> Nodes();
  // Waits until the coordinator reports frontend i with health `healthy`; false on timeout.
  bool WaitForHealth(int i, bool healthy, std::chrono::milliseconds timeout);

  const std::string& dir() const { return dir_; }

 private:
  WebCluster() = default;
  absl::Status LaunchFrontend(int i);

  WebClusterOptions options_;
  std::string dir_;
  std::unique_ptr<KvsGroup> kvs_;
  Process coordinator_;
  int http_port_ = 0;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  int https_port_ = 0;
  std::vector<int> frontend_ports_;
  std::vector<Process> frontends_;
};

}  // namespace penncloud::testing
