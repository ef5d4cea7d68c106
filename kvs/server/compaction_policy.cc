#include "kvs/server/compaction_policy.h"

#include <algorithm>

namespace penncloud::kvs::server {

void CompactionPolicy::Compacted(uint64_t slot) {
  if (slot <= compacted_) return;
  compacted_ = slot;
  applied_ = std::max(applied_, slot);
  while (!entries_.empty() && entries_.front().first <= slot) {
    bytes_ -= entries_.front().second;
    entries_.pop_front();
  }
}

void CompactionPolicy::Applied(uint64_t slot, uint64_t bytes) {
  if (slot <= compacted_ || slot <= applied_) return;
  applied_ = slot;
  entries_.emplace_back(slot, bytes);
  bytes_ += bytes;
}

std::optional<uint64_t> CompactionPolicy::Due() const {
  uint64_t through = 0;
  if (applied_ >= compacted_ + limits_.interval_slots + limits_.keep_slots) {
    through = applied_ - limits_.keep_slots;
  }
  if (limits_.log_bytes != 0 && bytes_ >= limits_.log_bytes) {
    // Keep the newest entries while they fit in a quarter of the bound (and keep_slots).
    const uint64_t keep_bytes = limits_.log_bytes / 4;
    uint64_t kept_bytes = 0;
    uint64_t kept = 0;
    auto it = entries_.rbegin();
    for (; it != entries_.rend(); ++it) {
      if (kept >= limits_.keep_slots || kept_bytes + it->second > keep_bytes) break;
      kept_bytes += it->second;
      ++kept;
    }
    // `it` is the newest entry that goes: compact through it.
    if (it != entries_.rend()) through = std::max(through, it->first);
  }
  if (through <= compacted_) return std::nullopt;
  return through;
}

}  // namespace penncloud::kvs::server
