// The PennCloud POP3 server: desktop clients download the Inbox the webmail shows.
#include <atomic>
#include <random>

#include "absl/flags/flag.h"
#include "mail/line_server.h"
#include "mail/main_common.h"
#include "mail/protocols.h"

ABSL_FLAG(int, port, 11000, "POP3 port (logins after STLS)");
ABSL_FLAG(int, pop3s_port, 0, "POP3 port with implicit TLS (the cluster uses 9950; 0 = none)");
ABSL_FLAG(int, max_connections_per_address, 20,
          "concurrent connections from one client address, both ports together (0 = no cap)");
ABSL_FLAG(int, idle_timeout_s, 600, "close connections idle this long (RFC 1939: >= 10 min)");

namespace pm = penncloud::mail;

int main(int argc, char** argv) {
  pm::MailProcess process =
      pm::StartMailProcess(argc, argv, "pop3", "PennCloud POP3: mail clients read local mailboxes",
                           FLAGS_max_connections_per_address);
  pm::MailStore store(*process.kvs);
  pm::Pop3Config config;
  config.hostname = process.hostname;
  config.domain = process.domain;
  config.tls_available = process.tls != nullptr;
  config.lease_micros = int64_t{absl::GetFlag(FLAGS_idle_timeout_s)} * 1'000'000 + 60'000'000;

  auto options = pm::ListenerOptions<pm::LineServerOptions>(
      process, absl::GetFlag(FLAGS_port),
      std::chrono::seconds(absl::GetFlag(FLAGS_idle_timeout_s)));
  options.busy_reply = "-ERR [SYS/TEMP] Too many connections, try again later\r\n";
  // Lease owners must be unique across every pop3 server and connection.
  std::string prefix = process.node + "-" + std::to_string(std::random_device{}());
  std::atomic<uint64_t> sessions{0};
  penncloud::accounts::Accounts& accounts = *process.accounts;
  auto factory = pm::Observed("pop3", [&](const std::string& peer) {
    return std::make_unique<pm::Pop3LineProtocol>(
        config, store,
        [&](std::string_view u, std::string_view p) { return accounts.CheckPassword(u, p); },
        prefix + "-" + std::to_string(sessions++), process.limits.get(), peer);
  });
  auto listeners = pm::StartListeners<pm::LineServer>(process, options,
                                                      absl::GetFlag(FLAGS_pop3s_port), factory);
  pm::ServeUntilStopped(process, listeners);
  return 0;
}
