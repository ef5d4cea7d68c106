// coordinator: the front door of PennCloud. gRPC for heartbeats (frontends, SMTP, POP3),
// HTTP on :8000 for browsers (reverse proxy over healthy frontends, plus /admin).
#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "accounts/accounts.h"
#include "common/config.h"
#include "common/grpc_metrics.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/node_name.h"
#include "common/stop_signal.h"
#include "coordinator/admin.h"
#include "coordinator/admin_users_backfill.h"
#include "coordinator/cluster_poller.h"
#include "coordinator/grpc_service.h"
#include "coordinator/https_context.h"
#include "coordinator/proxy.h"
#include "frontend/routes.h"
#include "grpcpp/grpcpp.h"
#include "http/metrics_server.h"
#include "http/static_files.h"
#include "kvs/client/connect.h"
#include "kvs/client/memory_client.h"

ABSL_FLAG(std::string, address, "127.0.0.1", "address for both HTTP and gRPC");
ABSL_FLAG(int, http_port, 8000, "HTTP port browsers use");
ABSL_FLAG(int, grpc_port, 8100, "gRPC port nodes send heartbeats to");
ABSL_FLAG(std::string, kvs, "", "KVS spec (for admin sessions); 'memory' for tests only");
ABSL_FLAG(int, heartbeat_ms, 1000,
          "how often nodes are told to send heartbeats; missed beats are counted against it");
ABSL_FLAG(int, down_after_ms, 3000,
          "silence after which a node is marked down and requests waiting on it are ended");
ABSL_FLAG(int, io_threads, 0, "proxy I/O threads (0: one per core)");
ABSL_FLAG(std::string, admin_user, "admin", "name of the first admin account");
ABSL_FLAG(std::string, admin_password_file, "",
          "if set, ensure the admin account exists with the password in this file");
ABSL_FLAG(std::string, run_dir, "",
          "folder of launch records (<name>.json) through which the admin console stops and "
          "starts nodes; empty: no node can be stopped or started");
ABSL_FLAG(std::string, web_root, PENNCLOUD_WEB_ROOT, "folder of the web app (web/admin.html)");
ABSL_FLAG(std::string, assets_root, penncloud::frontend::kDefaultAssetsRoot,
          "Bootstrap files served under /assets/ (as the frontends serve them)");
ABSL_FLAG(bool, serve_static, true,
          "answer the web app's pages and assets here instead of sending them to a frontend");
ABSL_FLAG(int, drain_ms, 10000, "on SIGTERM, how long requests in flight may take to finish");
ABSL_FLAG(int, https_port, 8443, "HTTPS port (the same site over TLS), if --tls_cert is set");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain for HTTPS; empty: no HTTPS listener (start.sh issues one)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(bool, public, false,
          "a public deployment: plain HTTP only redirects to HTTPS (needs --tls_cert)");
ABSL_FLAG(std::string, dns_name, "",
          "the site's DNS name: HTTPS redirects go there (else to the request's Host), and "
          "start.sh puts it in the certificate it issues");
ABSL_FLAG(int, max_connections_per_address, 512, "open HTTP(S) connections per client address");
ABSL_FLAG(int, login_failures_per_address, 20,
          "failed logins (web and WebDAV) per client address in 10 minutes before 429");
ABSL_FLAG(int, signups_per_hour_per_address, 20, "sign-up attempts per client address per hour");

namespace {

// Creates the first admin account (or marks an existing one admin), retrying while the
// store comes up.
void EnsureAdmin(penncloud::accounts::Accounts* accounts, std::string user, std::string pw) {
  using namespace penncloud;
  for (int i = 0; i < 120; ++i) {
    auto created = accounts->SignUp(user, pw, /*admin=*/true);
    absl::Status s = created.status();
    if (absl::IsAlreadyExists(s)) s = accounts->SetAdmin(user, true);
    if (s.ok()) {
      PC_LOG(kInfo, "coordinator.admin_ready")("user", user);
      return;
    }
    if (!absl::IsUnavailable(s) && !absl::IsDeadlineExceeded(s)) {
      PC_LOG(kError, "coordinator.admin_failed")("error", s.ToString());
      return;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}
}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("PennCloud coordinator: load balancer on :8000, heartbeats, admin");
  penncloud::config::ParseFlags(argc, argv, "coordinator");
  using namespace penncloud;
  const std::string node_name = InitNodeName("coordinator");
  BlockStopSignals();  // before any thread starts: the TLS file watcher is one
  if (absl::Status s = tls::InitProcess(node_name, tls::Identity::Coordinator(node_name));
      !s.ok()) {
    std::fprintf(stderr, "coordinator: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  metrics::InstallGrpcServerMetricsEverywhere();
  auto metrics_server = metrics::StartFromFlag();
  if (!metrics_server.ok()) return 2;

  std::string spec = absl::GetFlag(FLAGS_kvs);
  std::unique_ptr<kvs::Client> store;
  if (spec == "memory") {
    store = std::make_unique<kvs::MemoryClient>();
  } else {
    auto connected = kvs::Connect(spec);
    if (!connected.ok()) {
      PC_LOG(kError, "coordinator.kvs_spec")("error", connected.status().ToString());
      return 2;
    }
    store = std::move(*connected);
  }
  accounts::Accounts accounts(store.get());

  const int heartbeat_ms = absl::GetFlag(FLAGS_heartbeat_ms);
  const int down_after_ms = absl::GetFlag(FLAGS_down_after_ms);
  if (heartbeat_ms < 10 || heartbeat_ms > 60000 || down_after_ms <= heartbeat_ms) {
    std::fprintf(stderr,
                 "coordinator: --heartbeat_ms must be 10..60000 and --down_after_ms larger than "
                 "it (got %d and %d)\n",
                 heartbeat_ms, down_after_ms);
    return 2;
  }
  coordinator::Registry registry({.interval = std::chrono::milliseconds(heartbeat_ms),
                                  .down_after = std::chrono::milliseconds(down_after_ms),
                                  .suspect_for = std::chrono::milliseconds(2000)});
  registry.ExportGauges();
  coordinator::CoordinatorService service(&registry);
  std::string address = absl::GetFlag(FLAGS_address);
  std::string grpc_address = absl::StrCat(address, ":", absl::GetFlag(FLAGS_grpc_port));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(grpc_address, tls::ServerCredentials());
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a second coordinator here fails
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (!grpc_server) {
    PC_LOG(kError, "coordinator.grpc_listen_failed")("address", grpc_address);
    return 1;
  }

  frontend::ApiContext ctx;
  ctx.store = store.get();
  ctx.accounts = &accounts;
  // The admin console's sources: the registry above, the KVS poller, launch records.
  coordinator::History history;
  coordinator::ClusterPoller poller(coordinator::KvsLayout::FromSpec(spec), &registry, &history);
  poller.Start();
  // Accounts older than the console's user list join it (once per store, in the background).
  std::optional<coordinator::UserListBackfill> backfill;
  if (spec != "memory") backfill.emplace(store.get(), coordinator::PollerRowSource(&poller));
  coordinator::Launcher launcher(absl::GetFlag(FLAGS_run_dir));
  coordinator::NodeTable node_table(
      &registry, &poller, &launcher,
      {.http_address = absl::StrCat(address, ":", absl::GetFlag(FLAGS_http_port)),
       .started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count(),
       .certificate = tls::ProcessCertificate()});
  coordinator::DataBrowser data(&poller);
  coordinator::Membership membership(spec.starts_with("config=") ? spec.substr(7) : std::string(),
                                     &poller, &launcher);
  http::Router local;
  coordinator::RegisterAdminRoutes(local, ctx,
                                   {.nodes = &node_table,
                                    .launcher = &launcher,
                                    .history = &history,
                                    .data = &data,
                                    .membership = &membership,
                                    .web_root = absl::GetFlag(FLAGS_web_root)});
  http::WorkerPool pool(8, 10000);

  coordinator::ProxyOptions options;
  options.address = address;
  options.port = static_cast<uint16_t>(absl::GetFlag(FLAGS_http_port));
  int io = absl::GetFlag(FLAGS_io_threads);
  options.io_threads = io > 0 ? io : std::max(1u, std::thread::hardware_concurrency());
  options.head.deadline = http::HeadDeadlineFromFlag();
  std::unique_ptr<boost::asio::ssl::context> https;
  if (std::string cert = absl::GetFlag(FLAGS_tls_cert); !cert.empty()) {
    auto loaded = coordinator::HttpsContext(cert, absl::GetFlag(FLAGS_tls_key));
    if (!loaded.ok()) {
      PC_LOG(kError, "coordinator.https_config")("error", loaded.status().ToString());
      return 2;
    }
    https = std::move(*loaded);
  } else if (absl::GetFlag(FLAGS_public)) {
    std::fprintf(stderr, "coordinator: --public needs --tls_cert and --tls_key\n");
    return 2;
  }
  options.tls = https.get();
  options.https_port = static_cast<uint16_t>(absl::GetFlag(FLAGS_https_port));
  options.redirect_to_https = absl::GetFlag(FLAGS_public);
  options.public_host = absl::GetFlag(FLAGS_dns_name);
  options.limits.max_connections = absl::GetFlag(FLAGS_max_connections_per_address);
  options.limits.login_failures = absl::GetFlag(FLAGS_login_failures_per_address);
  options.limits.signups_per_hour = absl::GetFlag(FLAGS_signups_per_hour_per_address);
  http::Router edge;
  if (absl::GetFlag(FLAGS_serve_static)) {
    http::RegisterStaticRoutes(edge, frontend::WebAppSite(absl::GetFlag(FLAGS_web_root),
                                                          absl::GetFlag(FLAGS_assets_root)));
    options.edge = &edge;
  }
  coordinator::Proxy proxy(&registry, &local, &pool, options);
  auto port = proxy.Start();
  if (!port.ok()) {
    PC_LOG(kError, "coordinator.http_listen_failed")("error", port.status().ToString());
    return 1;
  }
  PC_LOG(kInfo, "coordinator.listening")
  ("http", absl::StrCat(address, ":", *port))(
      "https", https ? absl::StrCat(address, ":", proxy.https_port()) : "off")(
      "grpc", grpc_address)("down_after_ms", absl::GetFlag(FLAGS_down_after_ms));

  std::thread admin_thread;
  if (std::string file = absl::GetFlag(FLAGS_admin_password_file); !file.empty()) {
    std::ifstream in(file);
    std::string pw;
    std::getline(in, pw);
    admin_thread = std::thread(EnsureAdmin, &accounts, absl::GetFlag(FLAGS_admin_user), pw);
  }

  const int drain_ms = absl::GetFlag(FLAGS_drain_ms);
  std::chrono::steady_clock::time_point drain_deadline;  // set before Run returns
  OnStopSignal(
      [&proxy, &drain_deadline, drain_ms] {
        drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
        proxy.Drain(drain_ms);
      },
      std::chrono::milliseconds(drain_ms + 5000));
  proxy.Run();
  // /metrics last, so that the drain above can be watched there.
  if (*metrics_server) (*metrics_server)->Drain(drain_deadline);
  PC_LOG(kInfo, "coordinator.stopped");
  grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  if (admin_thread.joinable()) admin_thread.detach();
  std::_Exit(0);
}
