// A replica whose store is damaged (a checksum failed) stops serving and rebuilds its store
// from its peers before it serves again (docs/kvs.md "Disk faults" gives the argument
// that the rebuilt replica may vote).
//
// DIR/REPAIR_NEEDED marks a store that must be rebuilt. It is written and synced as soon as
// the damage is found, and removed only once the rebuilt store is in place, so a crash in
// the middle of a repair starts it over: a replica never starts on an empty or half-built
// store as if it had never promised anything.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "kvs/server/replica_options.h"

namespace penncloud::kvs::server {

absl::Status MarkForRepair(const std::string& data_dir, const std::string& why);
bool NeedsRepair(const std::string& data_dir);

// Moves the damaged store aside (DIR/store.damaged-<unix ms>, kept for a post-mortem),
// asks every voter of the group for its state (peer_survey.h), waits until one of them
// has applied everything in any voter's log, downloads its snapshot, and builds the new
// store from it with a hard state that promises the highest ballot any voter promised.
// Tries again until `deadline`.
absl::Status RepairFromPeers(const ReplicaOptions& options,
                             std::chrono::steady_clock::time_point deadline);

}  // namespace penncloud::kvs::server
