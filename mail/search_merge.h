// Merging one user's index (search_index.h): the pending docs are folded into a new
// segment, and segments of like size are merged into one (tiered, as an LSM tree does), so
// a delivery writes one cell and a query reads a few blocks per key.
//
// Any process may merge at any time, several at once: the manifest changes only by
// compare-and-put. A merge first claims the docs up to a new frontier (the manifest's
// intent), then lists and folds them, then commits the new segment and frontier; one that
// loses a compare-and-put deletes what it wrote and stops. A crash leaves either an intent
// (the next merge, once it is stale, claims again) or unlisted segment cells (removed by
// MailSearch::Repair): never a message that no query can find.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "kvs/client/client.h"

namespace penncloud::mail {

// Pending docs past which a query merges before answering; below it, it reads them.
inline constexpr int kMergeAt = 64;
// Docs arrived in the last kMergeLag stay pending: their deliveries may still be writing,
// and a doc written after the claim costs a late marker.
inline constexpr int64_t kMergeLag = 100'000;

struct MergeOptions {
  // How long to wait (on a watch of the manifest) for another merge's fresh claim to end
  // before merging what it left; zero: return at once, the other merge does the work.
  std::chrono::milliseconds wait_for_claim{0};
  // Only segments of fewer messages than this are compacted, so no merge holds more than
  // about 4 times as many messages' postings in memory (~64 bytes each); a large mailbox
  // ends with many segments of a few thousand messages, each read once per key (cached).
  int64_t max_compacted_messages = 1024;
};

// Folds the docs older than now - kMergeLag into segments, writing the unread cells of
// those delivered unread and still so ("~unread" goes in no segment), and merges segments.
// Returns OK without doing anything when another merge holds a fresh claim (after the wait).
absl::Status MergeIndex(kvs::Client& kvs, std::string_view user, int64_t now_micros,
                        const MergeOptions& options = {});

}  // namespace penncloud::mail
