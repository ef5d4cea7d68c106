// The durable queue of mail waiting for delivery to other domains.
//
// Layout: row "mailq", column "<id>" -> pb::QueuedMessage (the envelope and retry state);
// the message source in chunk rows "mailqbody/<id>/<n>". Enqueue writes the source first and
// the entry last, so an acknowledged enqueue is complete.
//
// Several smtp servers may run queue runners at once: a runner claims an entry by CPUT-ing
// a lease into it, and only the lease holder updates or removes it. A runner that dies
// leaves the lease to expire, and another picks the message up (at-least-once delivery).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "proto/mail.pb.h"

namespace penncloud::mail {

// What a Claim pass saw of the whole queue (every runner's entries, due or not).
struct QueueStats {
  int64_t length = 0;
  int64_t oldest_enqueued_micros = 0;  // 0 when the queue is empty
};
QueueStats StatsOf(const std::vector<pb::QueuedMessage>& entries);

class OutboundQueue {
 public:
  explicit OutboundQueue(kvs::Client& kvs, std::function<int64_t()> now_micros = nullptr);

  absl::StatusOr<std::string> Enqueue(std::string_view sender,
                                      const std::vector<std::string>& recipients,
                                      std::string_view source);
  // Enqueues `entry` as given (sender, recipients, due time, owner, hold); the queue fills
  // in the size, chunks, enqueue time and, unless set (from NewId), the id. A next
  // attempt of 0 means now.
  absl::StatusOr<std::string> Enqueue(pb::QueuedMessage entry, std::string_view source);
  // Enqueue, returning the entry as stored: a caller that enqueues it already leased (a
  // send's record, mail/delivery_intent.h) names it in its next Rewrite, Update or Complete.
  absl::StatusOr<pb::QueuedMessage> Add(pb::QueuedMessage entry, std::string_view source);

  // Claims up to `limit` entries that are due, not leased by a live runner and, if given,
  // `wanted`; `stats`, if given, is filled from the same listing.
  absl::StatusOr<std::vector<pb::QueuedMessage>> Claim(
      std::string_view owner, int64_t lease_micros, int limit, QueueStats* stats = nullptr,
      const std::function<bool(const pb::QueuedMessage&)>& wanted = nullptr);
  absl::StatusOr<std::string> Source(const pb::QueuedMessage& entry);

  // Removes a delivered (or bounced) entry.
  absl::Status Complete(const pb::QueuedMessage& claimed);
  // Writes back a claimed entry with its new state (remaining recipients, next attempt),
  // releasing the lease.
  absl::Status Update(const pb::QueuedMessage& claimed, pb::QueuedMessage updated);

  absl::StatusOr<std::vector<pb::QueuedMessage>> ListAll();
  // Up to `limit` entries after column `after`, in id order (oldest first); `more` says
  // whether others follow.
  struct Page {
    std::vector<pb::QueuedMessage> entries;
    bool more = false;
  };
  absl::StatusOr<Page> List(std::string_view after, int limit);
  // kNotFound once the entry is gone (delivered, bounced, cancelled or undone).
  absl::StatusOr<pb::QueuedMessage> Get(std::string_view id);

  // Writes a claimed entry's new state and keeps the lease; returns the entry as now
  // stored (the next Update or Complete must name it). kAborted if the lease was lost.
  absl::StatusOr<pb::QueuedMessage> Rewrite(const pb::QueuedMessage& claimed,
                                            pb::QueuedMessage updated);

  // Changes an entry no runner holds: `change` may refuse with an error (returned as is).
  // kFailedPrecondition while a runner holds it; kNotFound if it is gone. Returns the
  // entry as written.
  absl::StatusOr<pb::QueuedMessage> Modify(
      std::string_view id, const std::function<absl::Status(pb::QueuedMessage&)>& change);
  // Removes an entry no runner holds, with its source, if `check` allows; returns what it
  // removed. Errors as Modify.
  absl::StatusOr<pb::QueuedMessage> Withdraw(
      std::string_view id, const std::function<absl::Status(const pb::QueuedMessage&)>& check);
  int64_t Now() const { return now_micros_(); }
  // A fresh entry id: the enqueue time in microseconds, then 64 random bits.
  std::string NewId() const;
  kvs::Client& kvs() { return kvs_; }

 private:
  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;
};

}  // namespace penncloud::mail
