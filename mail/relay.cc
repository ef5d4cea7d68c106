#include "mail/relay.h"

#include <ctime>
#include <map>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "mail/delivery_intent.h"
#include "mail/delivery_status.h"
#include "mail/relay_metrics.h"
#include "mail/relay_release.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? "" : ToLower(address.substr(at + 1));
}

}  // namespace

std::string BounceMessage(std::string_view domain, std::string_view sender,
                          const std::vector<RecipientResult>& failed, std::string_view source) {
  std::string text =
      Cat("From: Mail Delivery System <MAILER-DAEMON@", domain, ">\r\n", "To: <", sender, ">\r\n",
          "Subject: Undelivered Mail Returned to Sender\r\n", "Date: ", Rfc5322Date(), "\r\n",
          "Auto-Submitted: auto-replied\r\n", "MIME-Version: 1.0\r\n",
          "Content-Type: text/plain; charset=utf-8\r\n", "\r\n",
          "Your message could not be delivered to these recipients:\r\n\r\n");
  for (const auto& r : failed) {
    std::string reply = r.reply;
    for (char& c : reply) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    text += Cat("  <", r.recipient, ">: ", reply, "\r\n");
  }
  text += "\r\n----- The headers of your message follow -----\r\n\r\n";
  size_t end = source.find("\r\n\r\n");
  std::string_view headers = source.substr(0, end == std::string_view::npos ? source.size() : end);
  for (size_t pos = 0; pos < headers.size();) {
    size_t eol = headers.find("\r\n", pos);
    std::string_view line = headers.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    if (!line.empty() && line.front() == '.') text += ".";  // stays valid if relayed raw
    text += Cat(line, "\r\n");
    if (eol == std::string_view::npos) break;
    pos = eol + 2;
  }
  return text;
}

Relay::Relay(OutboundQueue& queue, MailStore& store, RelayOptions options, SendFunction send,
             std::function<int64_t()> now_micros)
    : queue_(queue),
      store_(store),
      options_(std::move(options)),
      send_(std::move(send)),
      now_micros_(now_micros ? std::move(now_micros)
                             : [] { return absl::ToUnixMicros(absl::Now()); }),
      timelines_(queue.kvs()) {}

Relay::~Relay() { Stop(); }

void Relay::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      RunOnce();
      lock.lock();
      cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
    }
  });
}

void Relay::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int Relay::RunOnce() {
  if (const int64_t now = now_micros_(); now - last_sweep_micros_ >= kSweepMicros) {
    last_sweep_micros_ = now;
    if (auto swept = queue_.Sweep(); !swept.ok()) {
      PC_LOG(kWarn, "relay.sweep_failed")("error", swept.status().ToString());
    } else if (*swept > 0) {
      PC_LOG(kInfo, "relay.swept")("indexed", *swept);
    }
  }
  auto claimed = queue_.Claim(options_.owner, options_.lease_micros, 32);
  if (!claimed.ok()) {
    PC_LOG(kWarn, "relay.claim_failed")("error", claimed.status().ToString());
    return 0;
  }
  for (const auto& entry : *claimed) Process(entry);
  // Counted after a pass that delivered (so a queue just emptied shows 0 at once), and now
  // and then otherwise: a count reads what changed since the one before.
  if (const int64_t now = now_micros_();
      !claimed->empty() || now - last_stats_micros_ >= kStatsMicros) {
    last_stats_micros_ = now;
    if (auto stats = queue_.Stats(); stats.ok()) RecordQueuePass(*stats, now);
  }
  return static_cast<int>(claimed->size());
}

void Relay::RecordTimeline(const pb::QueuedMessage& entry,
                           const std::vector<RecipientResult>& results, int attempts,
                           int64_t next_attempt_micros, bool done) {
  if (entry.user().empty()) return;
  int64_t now = now_micros_();
  auto s = timelines_.Update(entry.user(), entry.sent_id(), [&](pb::DeliveryStatus& st) {
    for (const RecipientResult& r : results) {
      switch (r.outcome) {
        case RecipientOutcome::kDelivered:
          SetRecipient(st, r.recipient, kAccepted, r.reply, 0, attempts, now);
          break;
        case RecipientOutcome::kTemporaryFailure:
          SetRecipient(st, r.recipient, kDeferred, r.reply, next_attempt_micros, attempts, now);
          break;
        case RecipientOutcome::kPermanentFailure:
          SetRecipient(st, r.recipient, kBounced, r.reply, 0, attempts, now);
          break;
      }
    }
    if (done) st.clear_queue_id();
  });
  if (!s.ok()) {
    PC_LOG(kWarn, "relay.timeline_failed")("id", entry.id())("error", s.ToString());
  }
}

void Relay::Process(const pb::QueuedMessage& claimed) {
  auto source = queue_.Source(claimed);
  if (!source.ok()) {
    PC_LOG(kWarn, "relay.read_failed")("id", claimed.id())("error", source.status().ToString());
    RecordMessageOutcome("error");
    return;  // the lease runs out and a later pass retries
  }
  pb::QueuedMessage entry = claimed;
  if (Unfiled(entry)) {
    auto adopted = AdoptSend(queue_, store_, timelines_, entry, *source);
    if (!adopted.ok()) {
      PC_LOG(kWarn, "relay.adopt_failed")("id", entry.id())("error", adopted.status().ToString());
      return;  // the lease runs out and a later pass retries
    }
    entry = std::move(*adopted);
  }
  if (entry.held()) {
    auto released = ReleaseHeld(queue_, store_, timelines_, entry, *source);
    if (!released.ok()) {
      PC_LOG(kWarn, "relay.release_failed")
      ("id", entry.id())("error", released.status().ToString());
      return;  // the lease runs out and a later pass retries
    }
    entry = std::move(*released);
    if (entry.recipients_size() == 0) {
      if (auto s = queue_.Complete(entry); !s.ok()) {
        PC_LOG(kWarn, "relay.complete_failed")("id", entry.id())("error", s.ToString());
      }
      return;
    }
  }
  // Group the recipients by destination host.
  std::map<std::pair<std::string, int>, std::vector<std::string>> by_host;
  for (const auto& r : entry.recipients()) {
    if (!options_.smarthost_host.empty()) {
      by_host[{options_.smarthost_host, options_.smarthost_port}].push_back(r);
    } else {
      by_host[{LookupMx(DomainOf(r)).front(), 25}].push_back(r);
    }
  }
  std::string outgoing = std::move(*source);
  if (options_.sign) {
    auto signed_message = options_.sign(outgoing);
    if (signed_message.ok()) {
      outgoing = std::move(*signed_message);
    } else {
      PC_LOG(kWarn, "relay.sign_failed")
      ("id", entry.id())("error", std::string(signed_message.status().message()));
    }
  }
  std::vector<RecipientResult> temporary, permanent, results;
  for (const auto& [host, recipients] : by_host) {
    for (auto& result : send_(host.first, host.second, entry.sender(), recipients, outgoing)) {
      results.push_back(result);
      if (result.outcome == RecipientOutcome::kTemporaryFailure) temporary.push_back(result);
      if (result.outcome == RecipientOutcome::kPermanentFailure) permanent.push_back(result);
      RecordRecipientResult(result.outcome);
      PC_LOG(kInfo, "relay.result")
      ("id", entry.id())("rcpt", result.recipient)("outcome", static_cast<int>(result.outcome))(
          "reply", result.reply);
    }
  }
  int attempts = entry.attempts() + 1;
  if (!temporary.empty() && attempts >= options_.max_attempts) {
    for (auto& t : temporary) {
      t.reply = Cat("gave up after ", attempts, " attempts; last error: ", t.reply);
      t.outcome = RecipientOutcome::kPermanentFailure;
      permanent.push_back(t);
    }
    for (auto& r : results) {
      if (r.outcome == RecipientOutcome::kTemporaryFailure) {
        r.outcome = RecipientOutcome::kPermanentFailure;
        r.reply = Cat("gave up after ", attempts, " attempts; last error: ", r.reply);
      }
    }
    temporary.clear();
  }
  if (!permanent.empty()) Bounce(entry, outgoing, permanent);
  RecordMessageOutcome(!temporary.empty() ? "retry" : !permanent.empty() ? "bounced" : "delivered");
  int64_t delay = options_.retry_base_micros;
  for (int i = 1; i < attempts && delay < options_.retry_max_micros; ++i) delay *= 2;
  int64_t next_attempt = now_micros_() + std::min(delay, options_.retry_max_micros);
  RecordTimeline(entry, results, attempts, next_attempt, temporary.empty());
  if (temporary.empty()) {
    if (auto s = queue_.Complete(entry); !s.ok()) {
      PC_LOG(kWarn, "relay.complete_failed")("id", entry.id())("error", s.ToString());
    }
    return;
  }
  pb::QueuedMessage next = entry;
  next.clear_recipients();
  for (const auto& t : temporary) next.add_recipients(t.recipient);
  next.set_attempts(attempts);
  next.set_next_attempt_micros(next_attempt);
  next.set_last_error(temporary.front().reply);
  if (auto s = queue_.Update(entry, next); !s.ok()) {
    PC_LOG(kWarn, "relay.update_failed")("id", entry.id())("error", s.ToString());
  }
}

void Relay::Bounce(const pb::QueuedMessage& entry, const std::string& source,
                   const std::vector<RecipientResult>& failed) {
  if (entry.sender().empty()) return;  // never bounce a bounce
  std::string bounce = BounceMessage(options_.domain, entry.sender(), failed, source);
  absl::Status s;
  if (DomainOf(entry.sender()) == ToLower(options_.domain)) {
    std::string user = entry.sender().substr(0, entry.sender().rfind('@'));
    s = store_.Add(user, kInbox, bounce, false).status();
  } else {
    s = queue_.Enqueue("", {entry.sender()}, bounce).status();
  }
  PC_LOG(kInfo, "relay.bounced")("id", entry.id())("to", entry.sender())("ok", s.ok());
}

}  // namespace penncloud::mail
