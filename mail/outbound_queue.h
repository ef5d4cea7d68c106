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

  // Claims up to `limit` entries that are due and not leased by a live runner; `stats`, if
  // given, is filled from the same listing.
  absl::StatusOr<std::vector<pb::QueuedMessage>> Claim(std::string_view owner, int64_t lease_micros,
                                                       int limit, QueueStats* stats = nullptr);
  absl::StatusOr<std::string> Source(const pb::QueuedMessage& entry);

  // Removes a delivered (or bounced) entry.
  absl::Status Complete(const pb::QueuedMessage& claimed);
  // Writes back a claimed entry with its new state (remaining recipients, next attempt),
  // releasing the lease.
  absl::Status Update(const pb::QueuedMessage& claimed, pb::QueuedMessage updated);

  absl::StatusOr<std::vector<pb::QueuedMessage>> ListAll();

 private:
  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;
};

}  // namespace penncloud::mail
