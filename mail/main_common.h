// Start-up shared by the smtp, pop3 and imap binaries: flags, node name, the process's
// mutual-TLS identity, the store connection, accounts, the mail certificate, the listener
// pair (STARTTLS port and implicit-TLS port), heartbeats, and waiting for SIGINT/SIGTERM.
// Each main keeps only its protocol: its own flags, its session factory, its extras.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "accounts/accounts.h"
#include "http/metrics_server.h"
#include "kvs/client/client.h"
#include "mail/address_limits.h"
#include "mail/line_server.h"

namespace penncloud::mail {

// A started mail binary. The flags every one of them has (--address, --kvs, --domain,
// --hostname, --state_dir, --tls, --tls_cert, --tls_key, --max_connections,
// --login_attempts_per_minute, --coordinator) are defined in main_common.cc.
struct MailProcess {
  std::string kind;  // "smtp", "pop3", "imap": config table, identity, metric and log names
  std::string node;  // common/node_name.h
  std::string address, domain, hostname, coordinator;
  int max_connections = 0;                          // per port
  std::unique_ptr<metrics::MetricsServer> metrics;  // --metrics_listen; null if unset
  std::unique_ptr<kvs::Client> kvs;
  std::unique_ptr<accounts::Accounts> accounts;
  std::unique_ptr<boost::asio::ssl::context> tls;  // the mail certificate; null if --tls=false
  std::unique_ptr<AddressLimits> limits;           // per client address, both ports together
  std::string state_dir;

  // Prints "<kind>: why" and exits the process with `code`.
  [[noreturn]] void Fail(const std::string& why, int code = 1) const;
};

// Parses the flags ([kind] table of the config file), names the node, blocks the stop
// signals before any thread starts, loads the process's identity (service/<kind>/<node>),
// connects to the store and loads the mail certificate (generated at <state>/tls/mail.*
// if missing). `max_connections_per_address` is the binary's own flag (the defaults
// differ). Exits with a message on failure: 2 for the identity, 1 otherwise.
MailProcess StartMailProcess(int argc, char** argv, const std::string& kind,
                             const std::string& usage,
                             const absl::Flag<int>& max_connections_per_address);

// Wraps a protocol factory so every session is counted (`<kind>_sessions_total`, open
// sessions) and every command by verb (`<kind>_commands_total`); SMTP message lines
// between a DATA's 354 and its "." are not commands and are not counted.
ProtocolFactory Observed(const std::string& kind, ProtocolFactory factory);

// Counts, in `<kind>_connections_refused_total`, connections turned away because
// --max_connections sessions were open (the listeners' on_refused).
std::function<void()> CountRefused(const std::string& kind);

// Listener options filled from the process: address, port, caps, idle timeout, TLS, the
// refusal counter (`<kind>_connections_refused_total`) and the per-address limits.
template <typename Options>
Options ListenerOptions(const MailProcess& process, int port, std::chrono::seconds idle_timeout) {
  Options o;
  o.address = process.address;
  o.port = port;
  o.max_connections = process.max_connections;
  o.idle_timeout = idle_timeout;
  o.tls = process.tls.get();
  o.on_refused = CountRefused(process.kind);
  o.limits = process.limits.get();
  return o;
}

// The listener on `options.port` and, if `implicit_port` is not 0, the same sessions with
// TLS from the first byte (RFC 8314) on that port. Exits with a message if either fails.
template <typename Server>
struct Listeners {
  std::unique_ptr<Server> plain, implicit;
  size_t connections() const {
    return plain->connections() + (implicit ? implicit->connections() : 0);
  }
};
template <typename Server, typename Options, typename Factory>
Listeners<Server> StartListeners(const MailProcess& process, const Options& options,
                                 int implicit_port, const Factory& factory) {
  Listeners<Server> l;
  l.plain = std::make_unique<Server>(options, factory);
  if (absl::Status s = l.plain->Start(); !s.ok()) process.Fail(s.ToString());
  if (implicit_port == 0) return l;
  if (options.tls == nullptr) process.Fail("an implicit-TLS port needs TLS (--tls)");
  Options implicit = options;
  implicit.port = implicit_port;
  implicit.implicit_tls = true;
  l.implicit = std::make_unique<Server>(implicit, factory);
  if (absl::Status s = l.implicit->Start(); !s.ok()) {
    process.Fail("port " + std::to_string(implicit_port) + ": " + s.ToString());
  }
  return l;
}

// Heartbeats to the coordinator (--coordinator), logs "<kind>.listening", waits for
// SIGINT or SIGTERM, logs "<kind>.stopping", then runs `before_stop` (e.g. the relay) and
// stops the implicit-TLS listener and the plain one, all at the same time.
void ServeUntilStopped(const MailProcess& process, int port, int implicit_port,
                       std::function<size_t()> connections, std::function<void()> stop);
template <typename Server>
void ServeUntilStopped(const MailProcess& process, Listeners<Server>& l,
                       std::function<void()> before_stop = nullptr) {
  ServeUntilStopped(
      process, l.plain->port(), l.implicit ? l.implicit->port() : 0,
      [&l] { return l.connections(); },
      [&l, before_stop = std::move(before_stop)] {
        // All at once: each may wait out its own bound (a relay pass on a slow store, a
        // message in DATA), and one after another those bounds would add up past a
        // container's stop grace period.
        std::vector<std::thread> stopping;
        if (before_stop) stopping.emplace_back(before_stop);
        if (l.implicit) stopping.emplace_back([&l] { l.implicit->Stop(); });
        l.plain->Stop();
        for (std::thread& t : stopping) t.join();
      });
}

}  // namespace penncloud::mail
