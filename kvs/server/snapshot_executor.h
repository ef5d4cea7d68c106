// The snapshots a replica receives (docs/kvs.md, "Snapshots and compaction"): the data of a
// leader's MSG_SNAPSHOT is fetched from that peer in the background, one download at a
// time, streamed to disk chunk by chunk; a finished download is held until the core asks
// for it (a newer one replaces it and the older files go), then installed into the store.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "kvs/paxos/node.h"
#include "kvs/storage/replica_store.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::kvs::server {

// The store's meta key of the core's snapshot metadata (paxos::SnapshotMeta).
inline constexpr char kSnapshotMeta[] = "snapshot_meta";

// A complete download and the message it came with.
struct IncomingSnapshot {
  paxos::Message message;
  std::string dir;    // a finished storage::SnapshotDownload
  uint64_t slot = 0;  // the applied slot its data was dumped at
};

class SnapshotExecutor {
 public:
  // `store` must outlive this.
  explicit SnapshotExecutor(storage::ReplicaStore& store) : store_(store) {}
  ~SnapshotExecutor() { Join(); }

  // Fetches the data of `message` from `peer` (nullptr: unreachable) on a thread of its own,
  // unless a fetch is under way. A complete download goes to `done` (on that thread); a
  // failed one is deleted.
  void Fetch(paxos::Message message, pb::KvsPeer::Stub* peer, uint64_t self,
             std::function<void(IncomingSnapshot)> done);
  // A finished download whose message the loop steps into the core now.
  void Hold(IncomingSnapshot snapshot);
  // Whether the held download can be installed for `meta`: NOT_FOUND if none is held,
  // OUT_OF_RANGE if its data is older than the snapshot's slot (installing it would lose
  // slots).
  absl::Status CanInstall(const paxos::SnapshotMeta& meta) const;
  // Replaces the state machine by the held download and records `meta`, then compacts the
  // log through its slot.
  absl::Status Install(const paxos::SnapshotMeta& meta);
  // Waits for the fetch under way, if any.
  void Join();

  bool fetching() const { return fetching_.load(); }
  const std::optional<IncomingSnapshot>& held() const { return held_; }

 private:
  storage::ReplicaStore& store_;
  std::optional<IncomingSnapshot> held_;  // loop thread
  std::atomic<bool> fetching_{false};
  std::thread thread_;
};

}  // namespace penncloud::kvs::server
