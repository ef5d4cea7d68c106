// One owner's share records change under a lease lock in the store, so two moves of that
// owner's drive never interleave their share bookkeeping (docs/drive-sharing.md, "Moves").
//
// Why a lock: a move rewrites the shares at or under its source before the tree changes and
// names their new paths after. Two moves at once, one of a shared item and one of a folder
// above it, each read the records before the other's tree change, so the later of them names
// a place the item no longer is. Ids alone cannot find the item again (folders do not know
// their parents), so the moves of one owner take turns: whoever holds the lock reads,
// changes the tree and settles the records before the next one reads.
//
// The lock is one cell, `drive/<owner>/share_lock` column `l`, holding "<holder> <expiry>"
// and changed only by compare-and-put. A holder that dies leaves it to expire (kLeaseMs);
// its records stay right meanwhile (a share names both places while a move is under way).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::drive {

class ShareLock {
 public:
  // Longer than any tree change takes; also how long a dead holder blocks the owner's moves.
  static constexpr int64_t kLeaseMs = 15'000;
  // How long Acquire waits for another holder before kAborted.
  static constexpr int kWaitRounds = 400;  // about 10 s in all

  ShareLock(kvs::Client* kvs, std::function<int64_t()> now_ms);

  // Takes `owner`'s lock for a new holder; returns that holder's token. kAborted if another
  // holder keeps it for the whole wait; a store error as it came.
  absl::StatusOr<std::string> Acquire(std::string_view owner);
  // Gives it back if `token` still holds it (a holder past its lease may have lost it).
  void Release(std::string_view owner, std::string_view token);

 private:
  kvs::Client* kvs_;
  std::function<int64_t()> now_ms_;
};

}  // namespace penncloud::drive
