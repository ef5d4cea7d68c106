#include "mail/delivery_intent.h"

#include "common/log.h"
#include "mail/delivery.h"
#include "mail/relay_release.h"

namespace penncloud::mail {

absl::StatusOr<pb::QueuedMessage> BeginSend(OutboundQueue& queue, pb::QueuedMessage entry,
                                            std::string_view source, std::string_view owner) {
  entry.clear_sent_id();
  entry.set_lease_owner(std::string(owner));
  entry.set_lease_until_micros(queue.Now() + kSendLeaseMicros);
  return queue.Add(std::move(entry), source);
}

absl::StatusOr<pb::MessageMeta> Send(OutboundQueue& queue, MailStore& store,
                                     DeliveryStatusStore& timelines, pb::QueuedMessage entry,
                                     std::string_view source, int64_t hold_micros) {
  const std::string user = entry.user();
  // Held until released: at the window's end by a runner, or at once below.
  entry.set_held(true);
  entry.set_next_attempt_micros(queue.Now() + hold_micros);
  auto record = BeginSend(queue, std::move(entry), source, "webmail-send");
  if (!record.ok()) return record.status();
  auto sent = store.Add(user, kSent, source, true);
  // The window begins once the Sent copy is filed, when the sender sees the send done: a
  // slow store must not use it up before the page can offer the undo.
  pb::QueuedMessage named = *record;
  if (hold_micros > 0) named.set_next_attempt_micros(queue.Now() + hold_micros);
  absl::Status saved =
      sent.ok() ? timelines.Save(user, sent->id(), NewTimeline(named, queue.Now())) : sent.status();
  if (!saved.ok()) {
    // Nothing has left: the send is taken back.
    if (queue.Complete(*record).ok() && sent.ok()) (void)store.Remove(user, sent->id());
    return saved;
  }
  named.set_sent_id(sent->id());
  if (hold_micros > 0) {
    // Named and unleased at once: due at the window's end, undoable until then.
    if (auto s = queue.Update(*record, std::move(named)); !s.ok()) {
      PC_LOG(kWarn, "mail.send_update_failed")("id", record->id())("error", s.ToString());
    }
    return sent;
  }
  // No window: the local copies now, the remote part to the relay. From here on the send
  // stands: a failure leaves the entry leased, and the runner that adopts it finishes.
  absl::StatusOr<pb::QueuedMessage> next = queue.Rewrite(*record, std::move(named));
  if (next.ok()) next = ReleaseHeld(queue, store, timelines, *next, source);
  absl::Status handed = next.status();
  if (next.ok()) {
    handed = next->recipients_size() == 0 ? queue.Complete(*next) : queue.Update(*next, *next);
  }
  if (!handed.ok()) {
    PC_LOG(kWarn, "mail.send_release_failed")("id", record->id())("error", handed.ToString());
  }
  return sent;
}

pb::DeliveryStatus NewTimeline(const pb::QueuedMessage& entry, int64_t now_micros) {
  pb::DeliveryStatus status;
  status.set_sent_micros(entry.enqueued_micros() > 0 ? entry.enqueued_micros() : now_micros);
  status.set_queue_id(entry.id());
  if (entry.held() && entry.next_attempt_micros() > now_micros) {
    status.set_undo_until_micros(entry.next_attempt_micros());
  }
  for (const auto* list : {&entry.recipients(), &entry.local_recipients()}) {
    for (const std::string& address : *list) {
      SetRecipient(status, address, kQueued, "", 0, 0, now_micros);
    }
  }
  return status;
}

bool Unfiled(const pb::QueuedMessage& entry) {
  return !entry.user().empty() && entry.sent_id().empty();
}

absl::StatusOr<pb::QueuedMessage> AdoptSend(OutboundQueue& queue, MailStore& store,
                                            DeliveryStatusStore& timelines,
                                            const pb::QueuedMessage& claimed,
                                            std::string_view source) {
  const std::string& user = claimed.user();
  // The dead sender may have filed the copy (after the entry, or, for an SMTP submission,
  // an IMAP APPEND before it): found as a submission finds one.
  auto found = FindSentCopy(store, user, source, claimed.enqueued_micros());
  if (!found.ok()) return found.status();
  std::string sent_id;
  if (found->has_value()) {
    sent_id = (*found)->id();
  } else {
    auto filed = store.Add(user, kSent, source, true);
    if (!filed.ok()) return filed.status();
    sent_id = filed->id();
  }
  auto timeline = timelines.Load(user, sent_id);
  if (absl::IsNotFound(timeline.status())) {
    // The undo window is over (the entry is due), and nobody was told it had begun.
    pb::DeliveryStatus fresh = NewTimeline(claimed, queue.Now());
    fresh.clear_undo_until_micros();
    if (auto s = timelines.Save(user, sent_id, fresh); !s.ok()) return s;
  } else if (!timeline.ok()) {
    return timeline.status();
  }
  pb::QueuedMessage named = claimed;
  named.set_sent_id(sent_id);
  PC_LOG(kInfo, "mail.send_adopted")
  ("id", claimed.id())("user", user)("sent_id", sent_id)("filed", !found->has_value());
  return queue.Rewrite(claimed, std::move(named));
}

}  // namespace penncloud::mail
