// The PennCloud POP3 server: desktop clients download the Inbox the webmail shows.
#include <atomic>
#include <iostream>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/node_name.h"
#include "mail/line_server.h"
#include "mail/main_common.h"
#include "mail/protocols.h"

ABSL_FLAG(std::string, address, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 11000, "POP3 port (logins after STLS)");
ABSL_FLAG(int, pop3s_port, 0, "POP3 port with implicit TLS (the cluster uses 9950; 0 = none)");
ABSL_FLAG(std::string, kvs, "config=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
          "the key-value store (see kvs/client/connect.h)");
ABSL_FLAG(std::string, domain, "penncloud.local", "local mail domain");
ABSL_FLAG(std::string, hostname, "penncloud.local", "our host name in banners");
ABSL_FLAG(std::string, state_dir, "", "state folder (default $PENNCLOUD_STATE or ./state)");
ABSL_FLAG(bool, tls, true, "offer STLS");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (default <state>/tls/mail.crt)");
ABSL_FLAG(std::string, tls_key, "", "PEM key (default <state>/tls/mail.key)");
ABSL_FLAG(int, max_connections, 256, "concurrent connections (per port)");
ABSL_FLAG(int, max_connections_per_address, 20,
          "concurrent connections from one client address, both ports together (0 = no cap)");
ABSL_FLAG(int, login_attempts_per_minute, 30,
          "logins one client address may attempt per minute (0 = no cap)");
ABSL_FLAG(int, idle_timeout_s, 600, "close connections idle this long (RFC 1939: >= 10 min)");
ABSL_FLAG(std::string, coordinator, "", "coordinator gRPC host:port for heartbeats (\"\" = none)");

namespace pm = penncloud::mail;

int main(int argc, char** argv) {
  penncloud::config::ParseFlags(argc, argv, "pop3",
                                "PennCloud POP3: mail clients read local mailboxes");
  const std::string node = penncloud::InitNodeName("pop3");
  pm::BlockStopSignals();  // before any thread starts: the TLS file watcher is one
  if (absl::Status s =
          penncloud::tls::InitProcess(node, penncloud::tls::Identity::Service("pop3", node));
      !s.ok()) {
    std::cerr << "pop3: " << s.message() << "\n";
    return 2;
  }

  std::string state = pm::StateDir(absl::GetFlag(FLAGS_state_dir));
  auto services = pm::StartServices(absl::GetFlag(FLAGS_kvs), state, absl::GetFlag(FLAGS_tls_cert),
                                    absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_hostname),
                                    absl::GetFlag(FLAGS_tls));
  if (!services.ok()) {
    std::cerr << "pop3: " << services.status() << "\n";
    return 1;
  }
  penncloud::accounts::Accounts& accounts = *services->accounts;
  pm::MailStore store(*services->kvs);
  pm::Pop3Config config;
  config.hostname = absl::GetFlag(FLAGS_hostname);
  config.domain = absl::GetFlag(FLAGS_domain);
  config.tls_available = services->tls != nullptr;
  config.lease_micros = int64_t{absl::GetFlag(FLAGS_idle_timeout_s)} * 1'000'000 + 60'000'000;

  pm::AddressLimits limits(
      {.max_connections = absl::GetFlag(FLAGS_max_connections_per_address),
       .login_attempts_per_minute = absl::GetFlag(FLAGS_login_attempts_per_minute)});
  pm::LineServerOptions options;
  options.address = absl::GetFlag(FLAGS_address);
  options.port = absl::GetFlag(FLAGS_port);
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.idle_timeout = std::chrono::seconds(absl::GetFlag(FLAGS_idle_timeout_s));
  options.tls = services->tls.get();
  options.busy_reply = "-ERR [SYS/TEMP] Too many connections, try again later\r\n";
  options.on_refused = pm::CountRefused("pop3");
  options.limits = &limits;
  // Lease owners must be unique across every pop3 server and connection.
  std::string prefix = node + "-" + std::to_string(std::random_device{}());
  std::atomic<uint64_t> sessions{0};
  auto factory = pm::Observed("pop3", [&](const std::string& peer) {
    return std::make_unique<pm::Pop3LineProtocol>(
        config, store,
        [&](std::string_view u, std::string_view p) { return accounts.CheckPassword(u, p); },
        prefix + "-" + std::to_string(sessions++), &limits, peer);
  });
  pm::LineServer server(options, factory);
  if (auto s = server.Start(); !s.ok()) {
    std::cerr << "pop3: " << s << "\n";
    return 1;
  }
  // POP3S: the same sessions with TLS from the first byte (RFC 8314).
  std::unique_ptr<pm::LineServer> pop3s;
  if (absl::GetFlag(FLAGS_pop3s_port) != 0) {
    if (options.tls == nullptr) {
      std::cerr << "pop3: --pop3s_port needs TLS (--tls)\n";
      return 1;
    }
    pm::LineServerOptions implicit = options;
    implicit.port = absl::GetFlag(FLAGS_pop3s_port);
    implicit.implicit_tls = true;
    pop3s = std::make_unique<pm::LineServer>(implicit, factory);
    if (auto s = pop3s->Start(); !s.ok()) {
      std::cerr << "pop3: port " << implicit.port << ": " << s << "\n";
      return 1;
    }
  }
  auto heartbeat = pm::StartHeartbeat(
      absl::GetFlag(FLAGS_coordinator), "pop3",
      absl::GetFlag(FLAGS_address) + ":" + std::to_string(server.port()), node, server);
  PC_LOG(kInfo, "pop3.listening")
  ("port", server.port())("pop3s_port", pop3s ? pop3s->port() : 0)("tls", config.tls_available);
  pm::WaitForStopSignal();
  PC_LOG(kInfo, "pop3.stopping");
  if (pop3s) pop3s->Stop();
  server.Stop();
  return 0;
}
