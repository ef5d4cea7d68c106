// The PennCloud IMAP server: Thunderbird, phones and mbsync see the same folders, flags and
// Sent copies as webmail and POP3.
#include "absl/flags/flag.h"
#include "common/metrics.h"
#include "mail/imap_server.h"
#include "mail/mailbox_idle_waker.h"
#include "mail/main_common.h"
#include "mail/protocols.h"
#include "mail/search_index.h"

ABSL_FLAG(int, port, 14300, "IMAP port (logins after STARTTLS)");
ABSL_FLAG(int, imaps_port, 0, "IMAP port with implicit TLS (the cluster uses 9930; 0 = none)");
ABSL_FLAG(int, max_connections_per_address, 20,
          "concurrent connections from one client address, both ports together (0 = no cap)");
ABSL_FLAG(int, idle_timeout_s, 31 * 60, "close connections idle this long (RFC 9051: >= 30 min)");
ABSL_FLAG(bool, idle_watch, true,
          "IDLE sessions wait on a KVS watch of their folder (10 s poll as a fallback); false: "
          "they look at the folder's counters every idle_poll_ms");
ABSL_FLAG(int, idle_poll_ms, 200, "how often an IDLE session looks at its folder's counters");
ABSL_FLAG(int, max_literal_bytes, 32 << 20, "the largest literal (APPENDed message) accepted");
ABSL_FLAG(int, worker_threads, 16, "IMAP commands run at once (each may wait on the store)");

namespace pm = penncloud::mail;

int main(int argc, char** argv) {
  pm::MailProcess process = pm::StartMailProcess(
      argc, argv, "imap", "PennCloud IMAP: mail clients share folders and flags",
      FLAGS_max_connections_per_address);
  pm::MailStore store(*process.kvs);
  // APPEND and COPY deliver too: merged in the background, a mailbox filled by a
  // client leaves its first SEARCH a few pending docs to fold, not every message.
  store.index().MergeInBackground(pm::kMergeEvery);
  pm::ImapConfig config;
  config.hostname = process.hostname;
  config.domain = process.domain;
  config.tls_available = process.tls != nullptr;
  config.max_literal_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_literal_bytes));

  auto options = pm::ListenerOptions<pm::ImapServerOptions>(
      process, absl::GetFlag(FLAGS_port),
      std::chrono::seconds(absl::GetFlag(FLAGS_idle_timeout_s)));
  options.poll_interval = std::chrono::milliseconds(absl::GetFlag(FLAGS_idle_poll_ms));
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  pm::MailboxWatch watch(*process.kvs);
  pm::MailboxIdleWaker waker(watch);
  if (absl::GetFlag(FLAGS_idle_watch)) options.idle_waker = &waker;
  auto& sessions =
      penncloud::metrics::Default().Counter("imap_sessions_total", "imap sessions accepted").With();
  penncloud::accounts::Accounts& accounts = *process.accounts;
  auto factory = [&](const std::string& peer) {
    sessions.Inc();
    return std::make_unique<pm::ImapSession>(
        config, store,
        pm::LimitLogins(
            [&](std::string_view u, std::string_view p) { return accounts.CheckPassword(u, p); },
            process.limits.get(), peer));
  };
  auto listeners = pm::StartListeners<pm::ImapServer>(process, options,
                                                      absl::GetFlag(FLAGS_imaps_port), factory);
  pm::ServeUntilStopped(process, listeners);
  return 0;
}
