// Snapshots at this replica: compacting the log behind the state machine (which is the
// snapshot), fetching a leader's snapshot, and installing it (snapshot_executor.h).
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "kvs/server/fatal.h"
#include "kvs/server/replica.h"

namespace penncloud::kvs::server {

void Replica::InstallSnapshot(const paxos::SnapshotMeta& meta) {
  if (absl::Status s = snapshots_->CanInstall(meta); !s.ok()) {
    Fatal(absl::IsNotFound(s) ? "kvs.snapshot_missing" : "kvs.snapshot_too_old", s);
  }
  if (absl::Status s = snapshots_->Install(meta); !s.ok()) {
    Fatal("kvs.snapshot_install_failed", s);
  }
  compaction_.Compacted(meta.slot());
  LoadMap(store_->ShardMap());
  LoadPeers();
  // Any cell may have changed: every watcher looks again.
  watches_.FailAll(absl::UnavailableError("kvs: snapshot installed; watch again"));
}

void Replica::MaybeCompact() {
  const std::optional<uint64_t> due = compaction_.Due();
  if (!due) return;
  const uint64_t slot = *due;
  // Applies skip the write-ahead log: the state machine is only a snapshot once a flush has
  // put it on disk. The flush runs in the background; a later sweep compacts.
  if (store_->DurableAppliedSlot() < slot) {
    if (absl::Status s = store_->StartStateFlush(); !s.ok()) Fatal("kvs.flush_failed", s);
    return;
  }
  const uint64_t log_bytes = compaction_.applied_bytes();
  absl::StatusOr<paxos::SnapshotMeta> meta = node_->Compact(slot);
  if (!meta.ok()) {
    PC_LOG(kWarn, "kvs.compact_refused")("slot", slot)("error", meta.status().ToString());
    return;
  }
  // The state machine is the snapshot (it lives in the same store, durable through `slot`).
  absl::Status s = store_->PutMeta(kSnapshotMeta, meta->SerializeAsString(), /*sync=*/true);
  if (s.ok()) s = store_->CompactLog(meta->slot());
  if (!s.ok()) Fatal("kvs.compact_failed", s);
  compaction_.Compacted(meta->slot());
  PC_LOG(kInfo, "kvs.compacted")
  ("through", meta->slot())("applied", store_->AppliedSlot())("log_bytes_before", log_bytes)(
      "log_bytes_after", compaction_.applied_bytes());
}

void Replica::FetchSnapshot(paxos::Message message) {
  pb::KvsPeer::Stub* peer = transport_->Stub(message.from());
  snapshots_->Fetch(std::move(message), peer, options_.id, [this](IncomingSnapshot snapshot) {
    Enqueue([&](Inbox& in) { in.snapshots.push_back(std::move(snapshot)); });
  });
}

}  // namespace penncloud::kvs::server
