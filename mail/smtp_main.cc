// The PennCloud SMTP server: receives mail for local users from anyone, accepts mail for
// other domains from authenticated users, and relays the outbound queue.
#include <random>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "accounts/sending_policy.h"
#include "common/log.h"
#include "mail/delivery.h"
#include "mail/dkim.h"
#include "mail/dns_resolver.h"
#include "mail/inbound_auth.h"
#include "mail/line_server.h"
#include "mail/main_common.h"
#include "mail/protocols.h"
#include "mail/relay.h"
#include "mail/tls.h"

ABSL_FLAG(int, port, 2500, "SMTP port (receiving, and submission after STARTTLS)");
ABSL_FLAG(int, smtps_port, 0,
          "submission port with implicit TLS, RFC 8314 (the cluster uses 4650; 0 = none)");
ABSL_FLAG(int64_t, max_message_bytes, 32 << 20, "largest message accepted");
ABSL_FLAG(int, max_connections_per_address, 50,
          "concurrent connections from one client address, both ports together (0 = no cap)");
ABSL_FLAG(int, idle_timeout_s, 300, "close connections idle this long");
ABSL_FLAG(std::string, smarthost, "", "relay all outbound mail via host:port (default: MX)");
ABSL_FLAG(bool, relay, true, "run the outbound queue runner");
ABSL_FLAG(int, relay_poll_ms, 1000, "how often the queue runner looks for due mail");
ABSL_FLAG(int64_t, relay_retry_base_ms, 60000, "first retry delay (doubles per attempt)");
ABSL_FLAG(int64_t, relay_retry_max_ms, 3600000, "longest retry delay");
ABSL_FLAG(int, relay_max_attempts, 12, "attempts before bouncing");
ABSL_FLAG(int, relay_timeout_ms, 30000, "per-step timeout talking to other servers");
ABSL_FLAG(std::string, dkim_dir, "",
          "DKIM private keys <domain>.<selector>.key (default <state>/dkim; made by start.sh)");
ABSL_FLAG(bool, verify_inbound, true,
          "check SPF, DKIM and DMARC of mail from other domains (Authentication-Results)");
ABSL_FLAG(std::string, authserv_id, "", "our name in Authentication-Results (default --hostname)");
ABSL_FLAG(std::string, dns_script, "",
          "answer DNS from this file of scripted records instead of the system resolver "
          "(tests; format in mail/dns_resolver.h)");
ABSL_FLAG(int, dns_timeout_ms, 5000, "per-try timeout of the system resolver");
ABSL_FLAG(bool, search_index, true,
          "index delivered mail for full-text search; false only to measure what indexing "
          "costs (stress_test/smtp_profile.sh --no-index): mail stored so is never found by "
          "search");

namespace pm = penncloud::mail;

int main(int argc, char** argv) {
  pm::MailProcess process = pm::StartMailProcess(
      argc, argv, "smtp", "PennCloud SMTP: receives mail for local users, relays the rest",
      FLAGS_max_connections_per_address);
  penncloud::accounts::Accounts& accounts = *process.accounts;
  pm::MailStore store(*process.kvs);
  if (!absl::GetFlag(FLAGS_search_index)) store.SkipIndexingForBenchmark();
  // The process that delivers most mail keeps each user's pending index docs few.
  store.index().MergeInBackground(pm::kMergeEvery);
  pm::OutboundQueue queue(*process.kvs);
  penncloud::accounts::SendingPolicy sending(process.kvs.get());
  pm::Delivery delivery(
      store, queue, process.domain,
      [&](std::string_view u, std::string_view p) { return accounts.CheckPassword(u, p); },
      [&](std::string_view u) -> absl::StatusOr<bool> {
        auto exists = accounts.Exists(u);
        if (absl::IsInvalidArgument(exists.status())) return false;  // not a valid name
        return exists;
      },
      [&](std::string_view u) { return sending.MaySendOutside(u); });

  // Mail between domains (docs/mail-auth.md): DNS for SPF/DKIM/DMARC, inbound checks, and
  // the keys outbound mail is signed with.
  std::unique_ptr<pm::DnsResolver> resolver;
  if (std::string script = absl::GetFlag(FLAGS_dns_script); !script.empty()) {
    auto scripted = pm::ScriptedResolver::Load(script);
    if (!scripted.ok()) process.Fail(scripted.status().ToString());
    resolver = std::move(*scripted);
  } else {
    resolver =
        pm::NewSystemResolver(std::chrono::milliseconds(absl::GetFlag(FLAGS_dns_timeout_ms)));
  }
  std::string authserv_id = absl::GetFlag(FLAGS_authserv_id);
  if (authserv_id.empty()) authserv_id = process.hostname;
  pm::InboundAuth inbound(*resolver, authserv_id);
  if (absl::GetFlag(FLAGS_verify_inbound)) {
    delivery.SetInboundCheck(
        [&](const pm::Envelope& e, std::string_view m) { return inbound(e, m); });
  }
  std::string dkim_dir = absl::GetFlag(FLAGS_dkim_dir);
  if (dkim_dir.empty()) dkim_dir = process.state_dir + "/dkim";
  auto dkim_keys = pm::LoadDkimKeys(dkim_dir, process.domain);
  if (!dkim_keys.ok()) process.Fail(dkim_keys.status().ToString());
  std::vector<std::string> selectors;
  for (const auto& k : *dkim_keys) selectors.push_back(k.selector);
  const pm::DkimSigner signer(std::move(*dkim_keys));

  pm::SmtpConfig config;
  config.hostname = process.hostname;
  config.domain = process.domain;
  config.max_message_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_message_bytes));
  config.tls_available = process.tls != nullptr;

  auto options = pm::ListenerOptions<pm::LineServerOptions>(
      process, absl::GetFlag(FLAGS_port),
      std::chrono::seconds(absl::GetFlag(FLAGS_idle_timeout_s)));
  options.busy_reply = "421 4.3.2 Too many connections, try again later\r\n";
  auto factory = pm::Observed("smtp", [&](const std::string& peer) {
    return std::make_unique<pm::SmtpLineProtocol>(config, delivery, peer, process.limits.get());
  });
  // The submission port with implicit TLS serves the same sessions (RFC 8314).
  auto listeners = pm::StartListeners<pm::LineServer>(process, options,
                                                      absl::GetFlag(FLAGS_smtps_port), factory);

  auto client_tls = pm::OpportunisticClientTlsContext();
  pm::SmtpClientOptions client_options;
  client_options.helo = config.hostname;
  client_options.timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_relay_timeout_ms));
  client_options.tls = client_tls.get();
  pm::RelayOptions relay_options;
  relay_options.domain = config.domain;
  std::string smarthost = absl::GetFlag(FLAGS_smarthost);
  if (!smarthost.empty()) {
    size_t colon = smarthost.rfind(':');
    relay_options.smarthost_host = smarthost.substr(0, colon);
    if (colon != std::string::npos &&
        !absl::SimpleAtoi(smarthost.substr(colon + 1), &relay_options.smarthost_port)) {
      process.Fail("bad --smarthost");
    }
  }
  relay_options.poll_interval = std::chrono::milliseconds(absl::GetFlag(FLAGS_relay_poll_ms));
  relay_options.retry_base_micros = absl::GetFlag(FLAGS_relay_retry_base_ms) * 1000;
  relay_options.retry_max_micros = absl::GetFlag(FLAGS_relay_retry_max_ms) * 1000;
  relay_options.max_attempts = absl::GetFlag(FLAGS_relay_max_attempts);
  relay_options.owner = process.node + "-" + std::to_string(std::random_device{}());
  if (!signer.empty()) {
    relay_options.sign = [&signer](std::string_view m) { return signer.Sign(m); };
  }
  pm::Relay relay(queue, store, relay_options,
                  [&](const std::string& host, int port, const std::string& sender,
                      const std::vector<std::string>& rcpts, const std::string& message) {
                    return pm::SendMail(host, port, sender, rcpts, message, client_options);
                  });
  if (absl::GetFlag(FLAGS_relay)) relay.Start();

  PC_LOG(kInfo, "smtp.relay")
  ("smarthost", smarthost)("dkim_selectors", absl::StrJoin(selectors, ","))(
      "verify_inbound", absl::GetFlag(FLAGS_verify_inbound))("running", absl::GetFlag(FLAGS_relay));
  pm::ServeUntilStopped(process, listeners, [&relay] { relay.Stop(); });
  return 0;
}
