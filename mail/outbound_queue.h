// The durable queue of mail waiting for delivery to other domains.
//
// Layout: row "mailq", column "<id>" -> pb::QueuedMessage (the envelope and retry state);
// the message source in chunk rows "mailqbody/<id>/<n>". Enqueue writes the source first and
// the entry last, so an acknowledged enqueue is complete.
//
// The due index: row "mailqdue", column "<next attempt, 16 hex digits>/<id>" -> "", so a
// claim reads only what is due (the columns up to now, then one Get each) instead of the
// whole queue, and a deferred message costs nothing until its retry time. Every write that
// moves an entry's next attempt writes the new column before the entry and removes the old
// one after it. So a column may outlive its entry or its time (a crash in between), never
// the other way round: claims skip such leftovers and remove them once they are
// kStaleGraceMicros old (younger ones may belong to a write still in flight). Sweep
// rebuilds missing columns from the whole queue, for entries written before the index.
//
// Several smtp servers may run queue runners at once: a runner claims an entry by CPUT-ing
// a lease into it, and only the lease holder updates or removes it. A runner that dies
// leaves the lease to expire, and another picks the message up (at-least-once delivery).
//
// The removals: row "mailqgone", column "<removal time, 16 hex digits>/<id>" -> "", written
// after an entry older than kUnrecordedRemovalMicros is removed (completed or withdrawn)
// and deleted once kStaleGraceMicros old. The queue gauge (Stats) keeps the set of ids in
// memory and learns what changed from the ids enqueued lately (a young entry removed is
// missing from that listing) and the removals recorded since its last pass, so a pass
// costs what changed, not the queue.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "proto/mail.pb.h"

namespace penncloud::mail {

// How old a due-index column that names no entry at its time must be before a claim
// removes it: a writer's new column comes before its entry, so a younger one may be one
// whose entry is being written (the clocks of two servers may differ by this much too).
inline constexpr int64_t kStaleGraceMicros = 600'000'000;

// The whole queue (every runner's entries, due or not), as the due index names it.
struct QueueStats {
  int64_t length = 0;
  int64_t oldest_enqueued_micros = 0;  // 0 when the queue is empty
};
// How often a runner sweeps the due index (OutboundQueue::Sweep).
inline constexpr int64_t kSweepMicros = 60'000'000;
// How far back a pass of the gauge or the sweep looks again, before what it saw last: an
// entry or a removal is named by its writer's clock when the write begins and lands later.
inline constexpr int64_t kLookBackMicros = 60'000'000;
// An entry removed this young leaves no removal record (a send to local recipients only is
// enqueued and removed within the request): every gauge pass lists the ids this young.
inline constexpr int64_t kUnrecordedRemovalMicros = 60'000'000;
// How often the gauge counts the whole queue anyway: a crash between a removal and its
// record, or a writer whose clock is behind by more than kLookBackMicros, leaves the count
// wrong until then.
inline constexpr int64_t kRecountMicros = 600'000'000;

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
  // `wanted`. Reads the due index up to now and each due entry.
  absl::StatusOr<std::vector<pb::QueuedMessage>> Claim(
      std::string_view owner, int64_t lease_micros, int limit,
      const std::function<bool(const pb::QueuedMessage&)>& wanted = nullptr);
  // The queue's length and oldest entry (ids begin with the enqueue time). The first pass,
  // and one every kRecountMicros, lists every id; the others list the ids enqueued and the
  // removals recorded since the pass before or kUnrecordedRemovalMicros ago, whichever is
  // earlier (less kLookBackMicros).
  absl::StatusOr<QueueStats> Stats();
  // Writes the due-index column of every entry that has none (entries written by a server
  // older than the index); returns how many it wrote. The first sweep reads the whole
  // queue, later ones the entries enqueued since the sweep before (less kLookBackMicros),
  // each with a read of its column. For a slow period (kSweepMicros), not every pass.
  absl::StatusOr<int> Sweep();
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
  // Writes `next` over `current` (compare-and-put), moving its due-index column if its
  // next attempt changed. Returns whether the write happened.
  absl::StatusOr<bool> Replace(const pb::QueuedMessage& current, const pb::QueuedMessage& next);
  // Removes the due-index column of `entry` once the entry is gone or has moved (best
  // effort: a leftover is removed by a later claim).
  void Unindex(const pb::QueuedMessage& entry);
  // What follows the removal of an entry: its column goes and, unless it was young, the
  // removal is recorded for the gauges (best effort: see kRecountMicros).
  void Retire(const pb::QueuedMessage& entry);
  // The cells of `row` after column `after`, page by page, with values if asked, until
  // `each` returns false.
  absl::Status ForEachCell(std::string_view row, std::string_view after, bool with_values,
                           const std::function<bool(const kvs::Cell&)>& each);
  // Deletes the removal records older than kStaleGraceMicros.
  void TrimRemovals(int64_t now);

  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;

  // The gauge's view of the queue, as of its last pass.
  std::mutex stats_mu_;
  std::set<std::string> queued_ids_;  // GUARDED_BY(stats_mu_)
  int64_t counted_micros_ = 0;        // GUARDED_BY(stats_mu_): the last pass; 0: none yet
  int64_t recounted_micros_ = 0;      // GUARDED_BY(stats_mu_): the last whole count
  // The sweep's: when the last one began (0: none yet, the next reads the whole queue).
  std::mutex sweep_mu_;
  int64_t swept_micros_ = 0;  // GUARDED_BY(sweep_mu_)
};

}  // namespace penncloud::mail
