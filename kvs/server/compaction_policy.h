// When a replica compacts its log (docs/kvs.md "Log compaction"): after `interval_slots`
// applied slots, or as soon as the applied entries since the last compaction hold
// `log_bytes` bytes, whichever comes first. The slot count alone lets the log grow without
// bound when values are large (10,000 slots of 1 MiB uploads is 10 GB replayed at every
// start); the byte bound keeps both the log on disk and the restart replay small whatever
// the value sizes.
//
// A compaction keeps the newest slots in the log for followers that are only a little
// behind: up to `keep_slots` of them, and, when it was the bytes that triggered it, no more
// than a quarter of `log_bytes`, so that what stays is always well under the bound.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace penncloud::kvs::server {

// The default byte bound. The consensus core holds every entry since the last compaction
// in memory (kvs/paxos/log.h) as well as on disk, so the bound is also the log's share of
// a replica's memory: up to the bound plus the quarter kept. At 64 MiB that was up to about
// 80 MiB of drive chunks on each replica during an upload, too much of the 200 MiB a replica
// may use (issue 22); 32 MiB holds it to 40 MiB and still keeps 8 MiB (a couple of seconds
// of uploads on a loaded machine) for a follower a little behind.
inline constexpr uint64_t kDefaultLogBytes = 32ull << 20;

struct CompactionLimits {
  uint64_t interval_slots = 10000;
  uint64_t keep_slots = 1000;
  uint64_t log_bytes = kDefaultLogBytes;  // 0 = no byte bound
};

class CompactionPolicy {
 public:
  explicit CompactionPolicy(CompactionLimits limits) : limits_(limits) {}

  // The log holds nothing at or below `slot` any more (compacted or covered by a snapshot).
  void Compacted(uint64_t slot);
  // Slot `slot`, whose log entry is `bytes` long, was applied. Slots come in increasing
  // order; slots at or below the last compaction are ignored.
  void Applied(uint64_t slot, uint64_t bytes);
  // The slot to compact through now, if a compaction is due.
  std::optional<uint64_t> Due() const;

  uint64_t compacted() const { return compacted_; }
  // Bytes of the applied entries above the last compaction.
  uint64_t applied_bytes() const { return bytes_; }

 private:
  CompactionLimits limits_;
  uint64_t compacted_ = 0;
  uint64_t applied_ = 0;
  uint64_t bytes_ = 0;
  std::deque<std::pair<uint64_t, uint64_t>> entries_;  // (slot, bytes) above compacted_
};

}  // namespace penncloud::kvs::server
