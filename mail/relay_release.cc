#include "mail/relay_release.h"

#include "common/log.h"
#include "mail/text.h"

namespace penncloud::mail {

absl::StatusOr<pb::QueuedMessage> ReleaseHeld(OutboundQueue& queue, MailStore& store,
                                              DeliveryStatusStore& timelines,
                                              const pb::QueuedMessage& claimed,
                                              std::string_view source) {
  for (const std::string& address : claimed.local_recipients()) {
    std::string user = ToLower(address.substr(0, address.rfind('@')));
    if (auto added = store.Add(user, kInbox, source, false); !added.ok()) return added.status();
  }
  const int64_t now = queue.Now();
  if (!claimed.user().empty()) {
    auto s = timelines.Update(claimed.user(), claimed.sent_id(), [&](pb::DeliveryStatus& st) {
      st.set_undo_until_micros(0);
      for (const auto& a : claimed.local_recipients()) {
        SetRecipient(st, a, kDelivered, "", 0, 1, now);
      }
      if (claimed.recipients_size() == 0) st.clear_queue_id();
    });
    if (!s.ok()) {
      PC_LOG(kWarn, "relay.timeline_failed")("id", claimed.id())("error", s.ToString());
    }
  }
  pb::QueuedMessage next = claimed;
  next.set_held(false);
  next.clear_local_recipients();
  next.set_next_attempt_micros(now);
  PC_LOG(kInfo, "relay.released")
  ("id", claimed.id())("local", claimed.local_recipients_size())("remote",
                                                                 claimed.recipients_size());
  return queue.Rewrite(claimed, std::move(next));
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

int HeldMailReleaser::RunOnce() {
  constexpr int64_t kLeaseMicros = 60'000'000;
  auto claimed = queue_.Claim(owner_, kLeaseMicros, 32, nullptr,
                              [](const pb::QueuedMessage& e) { return e.held(); });
  if (!claimed.ok()) {
    PC_LOG(kWarn, "mail.release_claim_failed")("error", claimed.status().ToString());
    return 0;
  }
  int released = 0;
  for (const pb::QueuedMessage& entry : *claimed) {
    auto source = queue_.Source(entry);
    absl::StatusOr<pb::QueuedMessage> next =
        source.ok() ? ReleaseHeld(queue_, store_, timelines_, entry, *source) : source.status();
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
