// frontend: one stateless PennCloud web server. Sessions and data live in the KVS, so any
// number of these run side by side behind the coordinator.
#include <csignal>
#include <cstdlib>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "accounts/accounts.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/node_name.h"
#include "common/stop_signal.h"
#include "frontend/deadline_store.h"
#include "frontend/drive_api.h"
#include "frontend/retention_pass.h"
#include "frontend/routes.h"
#include "heartbeat/load_reporter.h"
#include "heartbeat/sender.h"
#include "http/metrics_server.h"
#include "http/server.h"
#include "kvs/client/connect.h"
#include "kvs/client/memory_client.h"

ABSL_FLAG(std::string, address, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 8001, "HTTP port");
ABSL_FLAG(std::string, kvs, "",
          "KVS spec (see kvs/client/connect.h), e.g. 127.0.0.1:7011,...; 'memory': in-process, "
          "for HTTP-layer benchmarks only");
ABSL_FLAG(std::string, coordinator, "127.0.0.1:8100",
          "coordinator gRPC addresses (host:port), comma-separated: heartbeats go to each "
          "(empty: none)");
ABSL_FLAG(std::string, web_root, PENNCLOUD_WEB_ROOT, "folder of the web app (web/)");
ABSL_FLAG(std::string, assets_root, penncloud::frontend::kDefaultAssetsRoot,
          "Bootstrap files served under /assets/");
ABSL_FLAG(std::string, mail_domain, "penncloud.local", "mail domain of local users");
ABSL_FLAG(int, io_threads, 0, "I/O threads (0: one per core)");
ABSL_FLAG(int, workers, 64, "worker threads for handlers that call the KVS");
ABSL_FLAG(bool, secure_cookies, false, "mark cookies Secure (when served over HTTPS)");
ABSL_FLAG(int, undo_send_default_s, 5,
          "seconds a webmail send is held for undo, for accounts that never chose (0-30)");
ABSL_FLAG(int, drain_ms, 10000, "on SIGTERM, how long requests in flight may take to finish");
ABSL_FLAG(int, drive_retention_pass_s, 24 * 3600,
          "how often (cluster-wide, one frontend at a time) every account's drive is looked at "
          "so that trash and old versions expire for users who stopped writing (0: never)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("PennCloud frontend: HTTP server for the web app and JSON API");
  penncloud::config::ParseFlags(argc, argv, "frontend");
  using namespace penncloud;
  int port = absl::GetFlag(FLAGS_port);
  const std::string name = InitNodeName(absl::StrCat("frontend-", port));
  BlockStopSignals();  // before any thread starts: the TLS file watcher is one
  if (absl::Status s = tls::InitProcess(name, tls::Identity::Service("frontend", name)); !s.ok()) {
    PC_LOG(kError, "frontend.tls")("error", s.message());
    return 2;
  }
  auto metrics_server = metrics::StartFromFlag();
  if (!metrics_server.ok()) return 2;

  if (absl::GetFlag(FLAGS_kvs).empty()) {
    PC_LOG(kError, "frontend.no_kvs")("hint", "pass --kvs");
    return 2;
  }
  // "memory" keeps everything in this process: for a lone frontend in benchmarks of the
  // HTTP layer only (sessions are then not shared with other frontends).
  absl::StatusOr<std::unique_ptr<kvs::Client>> store =
      absl::GetFlag(FLAGS_kvs) == "memory"
          ? absl::StatusOr<std::unique_ptr<kvs::Client>>(std::make_unique<kvs::MemoryClient>())
          : kvs::Connect(absl::GetFlag(FLAGS_kvs));
  if (!store.ok()) {
    PC_LOG(kError, "frontend.kvs_spec")("error", store.status().ToString());
    return 2;
  }
  frontend::DeadlineStore deadline_store(store->get());
  accounts::Accounts accounts(&deadline_store);
  frontend::ApiContext ctx;
  ctx.store = &deadline_store;
  ctx.accounts = &accounts;
  ctx.mail_domain = absl::GetFlag(FLAGS_mail_domain);
  ctx.web_root = absl::GetFlag(FLAGS_web_root);
  ctx.secure_cookies = absl::GetFlag(FLAGS_secure_cookies);
  ctx.undo_send_default_s = absl::GetFlag(FLAGS_undo_send_default_s);

  http::Router router;
  frontend::BuildRoutes(router, ctx,
                        frontend::WebAppSite(ctx.web_root, absl::GetFlag(FLAGS_assets_root)));
  std::unique_ptr<frontend::RetentionPass> retention;
  if (const int every_s = absl::GetFlag(FLAGS_drive_retention_pass_s); every_s > 0) {
    retention = std::make_unique<frontend::RetentionPass>(
        ctx.store,
        [drive = frontend::SharedDrive(ctx)](const std::string& user) {
          (void)drive->CollectGarbage(user);  // a failure waits for the user's next look
        },
        frontend::RetentionPassOptions{.interval = std::chrono::seconds(every_s),
                                       .check_every = std::min<std::chrono::milliseconds>(
                                           std::chrono::seconds(every_s), std::chrono::minutes(10)),
                                       .now_ms = nullptr});
  }

  http::ServerOptions options;
  options.address = absl::GetFlag(FLAGS_address);
  options.port = static_cast<uint16_t>(port);
  int io = absl::GetFlag(FLAGS_io_threads);
  options.io_threads = io > 0 ? io : std::max(1u, std::thread::hardware_concurrency());
  options.workers = absl::GetFlag(FLAGS_workers);
  options.head.deadline = http::HeadDeadlineFromFlag();
  options.name = "frontend";
  http::Server server(&router, options);
  auto bound = server.Start();
  if (!bound.ok()) {
    PC_LOG(kError, "frontend.listen_failed")("error", bound.status().ToString());
    return 1;
  }
  std::string address = absl::StrCat(options.address, ":", *bound);
  PC_LOG(kInfo, "frontend.listening")
  ("address", address)("io_threads", options.io_threads)("workers", options.workers);

  std::unique_ptr<heartbeat::HeartbeatSender> beats;
  if (!absl::GetFlag(FLAGS_coordinator).empty()) {
    auto reporter = std::make_shared<heartbeat::LoadReporter>();
    beats = std::make_unique<heartbeat::HeartbeatSender>(
        heartbeat::HeartbeatOptions{
            .coordinators = heartbeat::ParseCoordinatorList(absl::GetFlag(FLAGS_coordinator)),
            .kind = "frontend",
            .address = address,
            .name = name},
        [&server, reporter] {
          http::LoadStats now = server.Load();
          return reporter->Report({.in_flight = now.in_flight,
                                   .connections = now.connections,
                                   .requests_total = now.requests_total,
                                   .latency = now.latency});
        });
  }

  // Drain: stop beating (the coordinator stops choosing this node), stop accepting, let
  // requests in flight finish, then stop.
  const int drain_ms = absl::GetFlag(FLAGS_drain_ms);
  std::chrono::steady_clock::time_point drain_deadline;  // set before Run returns
  OnStopSignal(
      [&server, &beats, &drain_deadline, drain_ms] {
        drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
        if (beats) beats->Stop();
        server.Stop(drain_ms);
      },
      std::chrono::milliseconds(drain_ms + 5000));
  server.Run();
  // /metrics last, so that the drain above can be watched there.
  if (*metrics_server) (*metrics_server)->Drain(drain_deadline);
  PC_LOG(kInfo, "frontend.stopped");
  beats.reset();
  // Workers blocked on a dead connection must not hold up the exit.
  std::_Exit(0);
}
