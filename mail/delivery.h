// Where accepted mail goes: local recipients' Inboxes in the mailbox store, everyone else
// into the outbound queue. Used by the SMTP server (as its SmtpBackend) and by webmail's
// compose, so both paths deliver the same way.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/mail_store.h"
#include "mail/outbound_queue.h"
#include "mail/pop3_session.h"
#include "mail/smtp_session.h"

namespace penncloud::mail {

using UserExists = std::function<absl::StatusOr<bool>(std::string_view user)>;
// Whether an account may send outside the local domain (null: everyone may).
using MaySendOutsideCheck = std::function<absl::StatusOr<bool>(std::string_view user)>;

// What inbound authentication (SPF, DKIM, DMARC: mail/inbound_auth.h) decided about a
// message from a client that did not log in.
struct InboundDecision {
  enum class Action { kDeliver, kJunk, kReject };
  Action action = Action::kDeliver;
  std::string message;  // the message to store (with its Authentication-Results field)
  std::string reason;   // why it is refused (kReject)
};
using InboundCheck =
    std::function<InboundDecision(const Envelope& envelope, std::string_view message)>;

// Sent copies are filed once per message, whoever files first. An authenticated SMTP
// submission stores one (so POP3 users, phones and scripts that never APPEND still get
// their Sent folder), and a client that APPENDs its own copy to Sent afterwards, as
// Thunderbird does, finds it by Message-ID and stores nothing; the other order works the
// same way. Only the newest kSentCopyCandidates Sent entries that arrived within
// kSentCopyWindowMicros are compared, so a check reads at most that many header blocks.
inline constexpr int64_t kSentCopyWindowMicros = int64_t{15} * 60 * 1'000'000;
inline constexpr int kSentCopyCandidates = 32;

// The Sent entry holding the message `source` (same Message-ID), if one arrived recently;
// nullopt if none did or `source` has no Message-ID.
absl::StatusOr<std::optional<pb::MessageMeta>> FindSentCopy(MailStore& store, std::string_view user,
                                                            std::string_view source,
                                                            int64_t now_micros);
// The entry of `folder` holding the message `source` (same Message-ID) among its newest
// `candidates` entries that arrived at or after `since_micros`; nullopt if none does or
// `source` has no Message-ID.
absl::StatusOr<std::optional<pb::MessageMeta>> FindCopy(MailStore& store, std::string_view user,
                                                        std::string_view folder,
                                                        std::string_view source,
                                                        int64_t since_micros, int candidates);

class Delivery final : public SmtpBackend {
 public:
  Delivery(MailStore& store, OutboundQueue& queue, std::string domain, Authenticator authenticate,
           UserExists exists, MaySendOutsideCheck may_send_outside = nullptr);

  absl::StatusOr<std::string> Authenticate(std::string_view user,
                                           std::string_view password) override;
  absl::StatusOr<bool> LocalUserExists(std::string_view user) override;
  absl::StatusOr<bool> MaySendOutside(std::string_view user) override;
  // Stores for every local recipient and queues one copy for all remote ones; a message
  // an authenticated user submits also gets a Sent copy (see FindSentCopy) and a delivery
  // timeline on it, as a webmail send does (delivery_status.h). Returns once everything
  // is durable.
  absl::StatusOr<std::string> Deliver(const Envelope& envelope, std::string_view message) override;

  // Checks every message from clients that did not log in before it is stored (unset: none
  // is checked). Set before serving.
  void SetInboundCheck(InboundCheck check) { inbound_check_ = std::move(check); }

  bool IsLocal(std::string_view address, std::string* user) const;
  const std::string& domain() const { return domain_; }

 private:
  // Deliver without the Sent copy.
  absl::StatusOr<std::string> DeliverCopies(const Envelope& envelope, std::string_view message);
  // Files `message` in `user`'s Sent unless a copy is there already; returns its id.
  absl::StatusOr<std::string> FileSentCopy(std::string_view user, std::string_view message);
  // An authenticated submission: the queue entry of the remote part first (leased,
  // delivery_intent.h), then the local copies and the Sent copy, its timeline, and last
  // the entry naming the Sent copy, which lets the relay have it.
  absl::StatusOr<std::string> Submit(const Envelope& envelope, std::string_view message);

  MailStore& store_;
  OutboundQueue& queue_;
  const std::string domain_;
  Authenticator authenticate_;
  UserExists exists_;
  MaySendOutsideCheck may_send_outside_;
  InboundCheck inbound_check_;

  // Accounts seen to exist recently: every RCPT of a busy mailbox need not read the account.
  // Only positive answers are cached, so a new account is reachable at once.
  std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> known_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::mail
