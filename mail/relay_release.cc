#include "mail/relay_release.h"

#include "common/log.h"
#include "mail/delivery.h"
#include "mail/delivery_intent.h"
#include "mail/delivery_pool.h"
#include "mail/text.h"

namespace penncloud::mail {

namespace {

// How far a resumed release looks back past its mark, for a clock that stepped back.
constexpr int64_t kClockSlackMicros = 5'000'000;
// Inbox entries a resumed release compares, newest first (a page of the listing).
constexpr int kCopyCandidates = 500;

}  // namespace

absl::StatusOr<pb::QueuedMessage> ReleaseHeld(OutboundQueue& queue, MailStore& store,
                                              DeliveryStatusStore& timelines,
                                              const pb::QueuedMessage& claimed,
                                              std::string_view source) {
  pb::QueuedMessage entry = claimed;
  const int64_t resumed_since = claimed.release_started_micros();
  if (resumed_since == 0 && claimed.local_recipients_size() > 0) {
    pb::QueuedMessage marked = claimed;
    marked.set_release_started_micros(queue.Now());
    auto rewritten = queue.Rewrite(claimed, std::move(marked));
    if (!rewritten.ok()) return rewritten.status();
    entry = std::move(*rewritten);
  }
  std::vector<std::string> users;
  for (const std::string& address : entry.local_recipients()) {
    users.push_back(ToLower(address.substr(0, address.rfind('@'))));
  }
  auto stored = RunTogether(users.size(), [&](size_t i) -> absl::Status {
    if (resumed_since > 0) {
      auto copy = FindCopy(store, users[i], kInbox, source, resumed_since - kClockSlackMicros,
                           kCopyCandidates);
      if (!copy.ok()) return copy.status();
      if (copy->has_value()) return absl::OkStatus();  // the release that died stored it
    }
    return store.Add(users[i], kInbox, source, false).status();
  });
  if (!stored.ok()) return stored;
  const int64_t now = queue.Now();
  if (!entry.user().empty()) {
    auto s = timelines.Update(entry.user(), entry.sent_id(), [&](pb::DeliveryStatus& st) {
      st.set_undo_until_micros(0);
      for (const auto& a : entry.local_recipients()) {
        SetRecipient(st, a, kDelivered, "", 0, 1, now);
      }
      if (entry.recipients_size() == 0) st.clear_queue_id();
    });
    if (!s.ok()) {
      PC_LOG(kWarn, "relay.timeline_failed")("id", entry.id())("error", s.ToString());
    }
  }
  pb::QueuedMessage next = entry;
  next.set_held(false);
  next.clear_local_recipients();
  next.clear_release_started_micros();
  next.set_next_attempt_micros(now);
  PC_LOG(kInfo, "relay.released")
  ("id", entry.id())("local", entry.local_recipients_size())("remote", entry.recipients_size())(
      "resumed", resumed_since > 0);
  return queue.Rewrite(entry, std::move(next));
}

HeldMailReleaser::HeldMailReleaser(kvs::Client& kvs, std::string owner,
                                   std::chrono::milliseconds interval)
    : queue_(kvs), store_(kvs), timelines_(kvs), owner_(std::move(owner)), interval_(interval) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      RunOnce();
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  });
}

HeldMailReleaser::~HeldMailReleaser() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<pb::QueuedMessage> HeldMailReleaser::Release(const pb::QueuedMessage& claimed) {
  auto source = queue_.Source(claimed);
  if (!source.ok()) return source.status();
  if (!Unfiled(claimed)) return ReleaseHeld(queue_, store_, timelines_, claimed, *source);
  auto adopted = AdoptSend(queue_, store_, timelines_, claimed, *source);
  if (!adopted.ok()) return adopted.status();
  return ReleaseHeld(queue_, store_, timelines_, *adopted, *source);
}

int HeldMailReleaser::RunOnce() {
  constexpr int64_t kLeaseMicros = 60'000'000;
  // The due index finds held entries once due; the sweep that repairs it is the relay's
  // and, slowly, every releaser's (smtp may run without a relay).
  if (const int64_t now = queue_.Now(); now - last_sweep_micros_ >= kSweepMicros) {
    last_sweep_micros_ = now;
    (void)queue_.Sweep();
  }
  auto claimed =
      queue_.Claim(owner_, kLeaseMicros, 32, [](const pb::QueuedMessage& e) { return e.held(); });
  if (!claimed.ok()) {
    PC_LOG(kWarn, "mail.release_claim_failed")("error", claimed.status().ToString());
    return 0;
  }
  int released = 0;
  for (const pb::QueuedMessage& entry : *claimed) {
    absl::StatusOr<pb::QueuedMessage> next = Release(entry);
    if (!next.ok()) {
      PC_LOG(kWarn, "mail.release_failed")("id", entry.id())("error", next.status().ToString());
      continue;  // the lease runs out and a later pass, here or elsewhere, retries
    }
    ++released;
    // The remote recipients are the relay's: due now, unleased.
    absl::Status s =
        next->recipients_size() == 0 ? queue_.Complete(*next) : queue_.Update(*next, *next);
    if (!s.ok()) {
      PC_LOG(kWarn, "mail.release_handoff_failed")("id", entry.id())("error", s.ToString());
    }
  }
  return released;
}

}  // namespace penncloud::mail
