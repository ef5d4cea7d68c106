#include "tests/web/web_cluster.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "proto/coordinator.grpc.pb.h"
#include "tests/support/test_pki.h"

namespace penncloud::testing {

absl::StatusOr<std::unique_ptr<WebCluster>> WebCluster::Start(WebClusterOptions options) {
  std::unique_ptr<WebCluster> c(new WebCluster());
  c->options_ = options;
  c->dir_ = TempDir("penncloud-web");
  auto kvs = KvsGroup::Start();
  if (!kvs.ok()) return kvs.status();
  c->kvs_ = std::move(*kvs);

  c->http_port_ = FreePort();
  c->grpc_port_ = FreePort();
  c->metrics_port_ = FreePort();
  std::vector<std::string> coordinator_args = {
      absl::StrCat("--http_port=", c->http_port_),
      absl::StrCat("--grpc_port=", c->grpc_port_),
      "--kvs=" + c->kvs_->spec(),
      absl::StrCat("--down_after_ms=", options.down_after_ms),
      absl::StrCat("--heartbeat_ms=", options.heartbeat_ms),
      absl::StrCat("--metrics_listen=127.0.0.1:", c->metrics_port_)};
  if (options.https) {
    absl::StatusOr<tls::Files> cert =
        TestPki::Shared().Issue(tls::Identity::Coordinator("https"), "https");
    if (!cert.ok()) return cert.status();
    c->https_port_ = FreePort();
    coordinator_args.insert(coordinator_args.end(),
                            {absl::StrCat("--https_port=", c->https_port_),
                             "--tls_cert=" + cert->cert, "--tls_key=" + cert->key});
  }
  coordinator_args.insert(coordinator_args.end(), options.coordinator_flags.begin(),
                          options.coordinator_flags.end());
  auto coord =
      Process::Start(BinaryPath("coordinator"), coordinator_args, c->dir_ + "/coordinator.log");
  if (!coord.ok()) return coord.status();
  c->coordinator_ = std::move(*coord);
  if (!WaitForPort(c->http_port_) || !WaitForPort(c->grpc_port_) ||
      (options.https && !WaitForPort(c->https_port_))) {
    return absl::UnavailableError("coordinator did not start; see " + c->dir_);
  }
  for (int i = 0; i < options.frontends; ++i) {
    c->frontend_ports_.push_back(FreePort());
    c->frontends_.emplace_back();
    if (absl::Status s = c->LaunchFrontend(i); !s.ok()) return s;
  }
  for (int i = 0; i < options.frontends; ++i) {
    if (!c->WaitForHealth(i, true, std::chrono::seconds(10))) {
      return absl::UnavailableError("frontend never registered; see " + c->dir_);
    }
  }
  return c;
}

WebCluster::~WebCluster() {
  for (Process& f : frontends_) f.Kill();
  coordinator_.Kill();
  // Logs stay for post-mortems only when asked.
  RemoveTestDir(dir_);
}

std::string WebCluster::https_ca_file() const { return TestPki::Shared().ca_file(); }

std::string WebCluster::frontend_address(int i) const {
  return absl::StrCat("127.0.0.1:", frontend_ports_[i]);
}

absl::Status WebCluster::LaunchFrontend(int i) {
  std::vector<std::string> args = {absl::StrCat("--port=", frontend_ports_[i]),
                                   "--kvs=" + kvs_->spec(),
                                   absl::StrCat("--coordinator=127.0.0.1:", grpc_port_),
                                   "--web_root=" + SourcePath("web"),
                                   "--io_threads=1",
                                   "--workers=16"};
  args.insert(args.end(), options_.frontend_flags.begin(), options_.frontend_flags.end());
  auto p = Process::Start(BinaryPath("frontend"), args, absl::StrCat(dir_, "/frontend", i, ".log"));
  if (!p.ok()) return p.status();
  frontends_[i] = std::move(*p);
  if (!WaitForPort(frontend_ports_[i])) {
    return absl::UnavailableError(absl::StrCat("frontend ", i, " did not start; see ", dir_));
  }
  return absl::OkStatus();
}

void WebCluster::KillFrontend(int i) {
  frontends_[i].Kill();
  frontends_[i].Wait(std::chrono::seconds(5));
}

absl::Status WebCluster::RestartFrontend(int i) { return LaunchFrontend(i); }

absl::StatusOr<std::vector<coordinator::pb::NodeInfo>> WebCluster::Nodes() {
  auto stub = coordinator::pb::Coordinator::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_), tls::ChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  coordinator::pb::ListNodesRequest req;
  coordinator::pb::ListNodesResponse res;
  grpc::Status s = stub->ListNodes(&ctx, req, &res);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return std::vector<coordinator::pb::NodeInfo>(res.nodes().begin(), res.nodes().end());
}

bool WebCluster::WaitForHealth(int i, bool healthy, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string address = frontend_address(i);
  while (std::chrono::steady_clock::now() < deadline) {
    auto nodes = Nodes();
    if (nodes.ok()) {
      for (const auto& n : *nodes) {
        if (n.address() == address && n.healthy() == healthy) return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace penncloud::testing
