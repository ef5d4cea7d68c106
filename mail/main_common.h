// Start-up shared by the smtp and pop3 binaries: the state folder, the store connection,
// accounts, TLS, and waiting for SIGINT/SIGTERM.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "accounts/accounts.h"
#include "common/metrics_server.h"
#include "kvs/client/client.h"
#include "mail/line_server.h"

namespace penncloud::mail {

// --state_dir, else $PENNCLOUD_STATE, else "state".
std::string StateDir(const std::string& flag);

struct Services {
  std::unique_ptr<kvs::Client> kvs;
  std::unique_ptr<accounts::Accounts> accounts;
  std::unique_ptr<boost::asio::ssl::context> tls;   // null if TLS is off
  std::unique_ptr<metrics::MetricsServer> metrics;  // --metrics_listen; null if unset
};

absl::StatusOr<Services> StartServices(const std::string& kvs_spec, const std::string& state_dir,
                                       const std::string& cert, const std::string& key,
                                       const std::string& hostname, bool tls);

// Wraps a protocol factory so every session is counted (`<kind>_sessions_total`, open
// sessions) and every command by verb (`<kind>_commands_total`); SMTP message lines
// between a DATA's 354 and its "." are not commands and are not counted.
ProtocolFactory Observed(const std::string& kind, ProtocolFactory factory);

// Counts, in `<kind>_connections_refused_total`, connections turned away because
// --max_connections sessions were open (LineServerOptions::on_refused).
std::function<void()> CountRefused(const std::string& kind);

// Sends heartbeats (kind "smtp"/"pop3", connection count as load) to the coordinator at
// `coordinator` ("" = none) until destroyed.
class LineServer;
std::shared_ptr<void> StartHeartbeat(const std::string& coordinator, const std::string& kind,
                                     const std::string& address, const std::string& name,
                                     LineServer& server);
// The same for a server that counts its connections some other way (imap).
std::shared_ptr<void> StartHeartbeat(const std::string& coordinator, const std::string& kind,
                                     const std::string& address, const std::string& name,
                                     std::function<size_t()> connections);

// Blocks until SIGINT or SIGTERM arrives. Call before starting threads (it blocks them).
void BlockStopSignals();
void WaitForStopSignal();

}  // namespace penncloud::mail
