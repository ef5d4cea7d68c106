#include "mail/delivery_intent.h"

#include "common/log.h"
#include "mail/delivery.h"
#include "mail/delivery_pool.h"
#include "mail/relay_release.h"
#include "mail/text.h"

namespace penncloud::mail {

absl::StatusOr<pb::QueuedMessage> BeginSend(OutboundQueue& queue, pb::QueuedMessage entry,
                                            std::string_view source, std::string_view owner) {
  entry.clear_sent_id();
  entry.set_lease_owner(std::string(owner));
  entry.set_lease_until_micros(queue.Now() + kSendLeaseMicros);
  return queue.Add(std::move(entry), source);
}

namespace {

std::vector<std::string> LocalUsers(const pb::QueuedMessage& entry) {
  std::vector<std::string> users;
  for (const std::string& address : entry.local_recipients()) {
    users.push_back(ToLower(address.substr(0, address.rfind('@'))));
  }
  return users;
}

// A send with no undo window. Its record says from the first write that a release has
// begun, so a runner that adopts it after a crash (AdoptSend, then ReleaseHeld) looks for
// the copies already stored instead of storing them twice; the sender therefore needs no
// further rewrite of the record before it stores the local copies. The timeline is written
// once, as it ends up, and the record completed (local mail only) or handed to the relay.
absl::StatusOr<pb::MessageMeta> SendNow(OutboundQueue& queue, MailStore& store,
                                        DeliveryStatusStore& timelines, pb::QueuedMessage entry,
                                        std::string_view source) {
  const std::string user = entry.user();
  entry.set_held(true);  // a runner adopts it only if the sender dies before the end
  entry.set_next_attempt_micros(queue.Now());
  entry.set_release_started_micros(queue.Now());
  auto record = BeginSend(queue, std::move(entry), source, "webmail-send");
  if (!record.ok()) return record.status();
  auto sent = store.Add(user, kSent, source, true);
  if (!sent.ok()) {
    (void)queue.Complete(*record);  // nothing has left: the send is taken back
    return sent.status();
  }
  // From here on the send stands: a failure leaves the record leased and unnamed, and the
  // runner that adopts it finishes the send.
  const std::vector<std::string> users = LocalUsers(*record);
  auto stored = RunTogether(users.size(), [&](size_t i) -> absl::Status {
    return store.Add(users[i], kInbox, source, false).status();
  });
  if (!stored.ok()) {
    PC_LOG(kWarn, "mail.send_release_failed")("id", record->id())("error", stored.ToString());
    return sent;
  }
  const int64_t now = queue.Now();
  pb::DeliveryStatus timeline = NewTimeline(*record, now);
  for (const std::string& address : record->local_recipients()) {
    SetRecipient(timeline, address, kDelivered, "", 0, 1, now);
  }
  if (record->recipients_size() == 0) timeline.clear_queue_id();
  absl::Status handed = timelines.Save(user, sent->id(), timeline);
  if (handed.ok() && record->recipients_size() == 0) handed = queue.Complete(*record);
  if (handed.ok() && record->recipients_size() > 0) {
    pb::QueuedMessage next = *record;
    next.set_sent_id(sent->id());
    next.set_held(false);
    next.clear_local_recipients();
    next.clear_release_started_micros();
    handed = queue.Update(*record, std::move(next));
  }
  if (!handed.ok()) {
    PC_LOG(kWarn, "mail.send_release_failed")("id", record->id())("error", handed.ToString());
  }
  return sent;
}

}  // namespace

absl::StatusOr<pb::MessageMeta> Send(OutboundQueue& queue, MailStore& store,
                                     DeliveryStatusStore& timelines, pb::QueuedMessage entry,
                                     std::string_view source, int64_t hold_micros) {
  if (hold_micros <= 0) return SendNow(queue, store, timelines, std::move(entry), source);
  const std::string user = entry.user();
  // Held until released: at the window's end by a runner.
  entry.set_held(true);
  entry.set_next_attempt_micros(queue.Now() + hold_micros);
  auto record = BeginSend(queue, std::move(entry), source, "webmail-send");
  if (!record.ok()) return record.status();
  auto sent = store.Add(user, kSent, source, true);
  // The window begins once the Sent copy is filed, when the sender sees the send done: a
  // slow store must not use it up before the page can offer the undo.
  pb::QueuedMessage named = *record;
  named.set_next_attempt_micros(queue.Now() + hold_micros);
  absl::Status saved =
      sent.ok() ? timelines.Save(user, sent->id(), NewTimeline(named, queue.Now())) : sent.status();
  if (!saved.ok()) {
    // Nothing has left: the send is taken back.
    if (queue.Complete(*record).ok() && sent.ok()) (void)store.Remove(user, sent->id());
    return saved;
  }
  named.set_sent_id(sent->id());
  // Named and unleased at once: due at the window's end, undoable until then.
  if (auto s = queue.Update(*record, std::move(named)); !s.ok()) {
    PC_LOG(kWarn, "mail.send_update_failed")("id", record->id())("error", s.ToString());
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
