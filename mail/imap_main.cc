// The PennCloud IMAP server: Thunderbird, phones and mbsync see the same folders, flags and
// Sent copies as webmail and POP3.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/node_name.h"
#include "mail/imap_server.h"
#include "mail/main_common.h"
#include "mail/protocols.h"

ABSL_FLAG(std::string, address, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 14300, "IMAP port (logins after STARTTLS)");
ABSL_FLAG(int, imaps_port, 0, "IMAP port with implicit TLS (the cluster uses 9930; 0 = none)");
ABSL_FLAG(std::string, kvs, "config=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
          "the key-value store (see kvs/client/connect.h)");
ABSL_FLAG(std::string, domain, "penncloud.local", "local mail domain");
ABSL_FLAG(std::string, hostname, "penncloud.local", "our host name in banners");
ABSL_FLAG(std::string, state_dir, "", "state folder (default $PENNCLOUD_STATE or ./state)");
ABSL_FLAG(bool, tls, true, "offer STARTTLS");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (default <state>/tls/mail.crt)");
ABSL_FLAG(std::string, tls_key, "", "PEM key (default <state>/tls/mail.key)");
ABSL_FLAG(int, max_connections, 256, "concurrent connections (per port)");
ABSL_FLAG(int, max_connections_per_address, 20,
          "concurrent connections from one client address, both ports together (0 = no cap)");
ABSL_FLAG(int, login_attempts_per_minute, 30,
          "logins one client address may attempt per minute (0 = no cap)");
ABSL_FLAG(int, idle_timeout_s, 31 * 60, "close connections idle this long (RFC 9051: >= 30 min)");
ABSL_FLAG(int, idle_poll_ms, 200, "how often an IDLE session looks at its folder's counters");
ABSL_FLAG(int, max_literal_bytes, 32 << 20, "the largest literal (APPENDed message) accepted");
ABSL_FLAG(std::string, coordinator, "", "coordinator gRPC host:port for heartbeats (\"\" = none)");

namespace pm = penncloud::mail;

int main(int argc, char** argv) {
  penncloud::config::ParseFlags(argc, argv, "imap",
                                "PennCloud IMAP: mail clients share folders and flags");
  const std::string node = penncloud::InitNodeName("imap");
  pm::BlockStopSignals();  // before any thread starts
  if (absl::Status s =
          penncloud::tls::InitProcess(node, penncloud::tls::Identity::Service("imap", node));
      !s.ok()) {
    std::cerr << "imap: " << s.message() << "\n";
    return 2;
  }
  std::string state = pm::StateDir(absl::GetFlag(FLAGS_state_dir));
  auto services = pm::StartServices(absl::GetFlag(FLAGS_kvs), state, absl::GetFlag(FLAGS_tls_cert),
                                    absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_hostname),
                                    absl::GetFlag(FLAGS_tls));
  if (!services.ok()) {
    std::cerr << "imap: " << services.status() << "\n";
    return 1;
  }
  penncloud::accounts::Accounts& accounts = *services->accounts;
  pm::MailStore store(*services->kvs);
  pm::ImapConfig config;
  config.hostname = absl::GetFlag(FLAGS_hostname);
  config.domain = absl::GetFlag(FLAGS_domain);
  config.tls_available = services->tls != nullptr;
  config.max_literal_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_literal_bytes));

  pm::AddressLimits limits(
      {.max_connections = absl::GetFlag(FLAGS_max_connections_per_address),
       .login_attempts_per_minute = absl::GetFlag(FLAGS_login_attempts_per_minute)});
  pm::ImapServerOptions options;
  options.address = absl::GetFlag(FLAGS_address);
  options.port = absl::GetFlag(FLAGS_port);
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.idle_timeout = std::chrono::seconds(absl::GetFlag(FLAGS_idle_timeout_s));
  options.poll_interval = std::chrono::milliseconds(absl::GetFlag(FLAGS_idle_poll_ms));
  options.tls = services->tls.get();
  options.on_refused = pm::CountRefused("imap");
  options.limits = &limits;
  auto& sessions =
      penncloud::metrics::Default().Counter("imap_sessions_total", "imap sessions accepted").With();
  auto factory = [&](const std::string& peer) {
    sessions.Inc();
    return std::make_unique<pm::ImapSession>(
        config, store,
        pm::LimitLogins(
            [&](std::string_view u, std::string_view p) { return accounts.CheckPassword(u, p); },
            &limits, peer));
  };
  pm::ImapServer server(options, factory);
  if (auto s = server.Start(); !s.ok()) {
    std::cerr << "imap: " << s << "\n";
    return 1;
  }
  std::unique_ptr<pm::ImapServer> imaps;
  if (absl::GetFlag(FLAGS_imaps_port) != 0) {
    if (options.tls == nullptr) {
      std::cerr << "imap: --imaps_port needs TLS (--tls)\n";
      return 1;
    }
    pm::ImapServerOptions implicit = options;
    implicit.port = absl::GetFlag(FLAGS_imaps_port);
    implicit.implicit_tls = true;
    imaps = std::make_unique<pm::ImapServer>(implicit, factory);
    if (auto s = imaps->Start(); !s.ok()) {
      std::cerr << "imap: port " << implicit.port << ": " << s << "\n";
      return 1;
    }
  }
  auto heartbeat =
      pm::StartHeartbeat(absl::GetFlag(FLAGS_coordinator), "imap",
                         absl::GetFlag(FLAGS_address) + ":" + std::to_string(server.port()), node,
                         [&] { return server.connections() + (imaps ? imaps->connections() : 0); });
  PC_LOG(kInfo, "imap.listening")
  ("port", server.port())("imaps_port", imaps ? imaps->port() : 0)("tls", config.tls_available);
  pm::WaitForStopSignal();
  PC_LOG(kInfo, "imap.stopping");
  if (imaps) imaps->Stop();
  server.Stop();
  return 0;
}
