// The delivery timeline of a message a user sent from webmail: per recipient, where it
// stands (queued, delivered, accepted with the remote reply, deferred with the reason and
// the next retry, bounced, cancelled).
//
// Layout: row "maildelivery/<user>", column "<Sent message id>" -> pb::DeliveryStatus. One
// cell per message, rewritten as a whole. Who writes it is ordered by the outbound queue
// entry (pb::QueuedMessage.user/sent_id): the queue runner writes while it holds the
// entry's lease, before it releases it; the owner's retry and cancel write only after
// winning a compare-and-put or compare-and-delete on an unleased entry. So two writers
// never overlap and the cell needs no compare-and-put of its own.
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

inline constexpr char kQueued[] = "queued";
inline constexpr char kDelivered[] = "delivered";  // a local recipient's Inbox has it
inline constexpr char kAccepted[] = "accepted";    // the remote server said 2xx
inline constexpr char kDeferred[] = "deferred";
inline constexpr char kBounced[] = "bounced";
inline constexpr char kCancelled[] = "cancelled";
// Shown, never stored: the queue entry is gone but its last result never reached the
// timeline (a server stopped between the two writes).
inline constexpr char kUnknown[] = "unknown";

class DeliveryStatusStore {
 public:
  explicit DeliveryStatusStore(kvs::Client& kvs) : kvs_(kvs) {}

  // kNotFound if the message has no timeline (sent before timelines, or undone).
  absl::StatusOr<pb::DeliveryStatus> Load(std::string_view user, std::string_view sent_id);
  absl::Status Save(std::string_view user, std::string_view sent_id,
                    const pb::DeliveryStatus& status);
  absl::Status Remove(std::string_view user, std::string_view sent_id);

  // Load, `change`, Save; a missing timeline starts empty (a crash may have come between
  // the queue entry and the timeline's first write).
  absl::Status Update(std::string_view user, std::string_view sent_id,
                      const std::function<void(pb::DeliveryStatus&)>& change);

 private:
  kvs::Client& kvs_;
};

// Sets `address`'s line in `status` (added if absent). `next_retry_micros` and `reply`
// are cleared when empty/0; `attempts` < 0 leaves the count as it is.
void SetRecipient(pb::DeliveryStatus& status, std::string_view address, std::string_view state,
                  std::string_view reply, int64_t next_retry_micros, int attempts,
                  int64_t now_micros);

}  // namespace penncloud::mail
