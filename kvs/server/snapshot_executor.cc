#include "kvs/server/snapshot_executor.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "kvs/server/nonce.h"
#include "kvs/storage/disk_files.h"
#include "kvs/storage/snapshot_file.h"

namespace penncloud::kvs::server {
namespace {

// A leftover download is only wasted space, so a failure to remove it is not an error.
void RemoveDir(const std::string& dir) { (void)storage::RemoveTree(dir); }

}  // namespace

void SnapshotExecutor::Fetch(paxos::Message message, pb::KvsPeer::Stub* peer, uint64_t self,
                             std::function<void(IncomingSnapshot)> done) {
  bool idle = false;
  if (!fetching_.compare_exchange_strong(idle, true)) return;  // one at a time
  if (thread_.joinable()) thread_.join();
  thread_ = std::thread(
      [this, peer, self, done = std::move(done), message = std::move(message)]() mutable {
        // Each chunk goes to disk as it arrives: memory stays at one chunk (snapshot_file.h).
        const std::string dir = absl::StrCat(store_.SnapshotInbox(), "/", Nonce());
        auto download = storage::SnapshotDownload::Create(dir);
        uint64_t chunks = 0;
        bool ok = false;
        if (peer != nullptr && download.ok()) {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
          pb::SnapshotRequest request;
          request.set_from(self);
          auto reader = peer->FetchSnapshot(&context, request);
          pb::SnapshotChunk chunk;
          absl::Status stored;
          while (reader->Read(&chunk)) {
            ok = chunk.last();
            ++chunks;
            stored = (*download)->Add(chunk);
            if (!stored.ok()) {
              ok = false;
              context.TryCancel();
              break;
            }
            chunk.Clear();
          }
          grpc::Status s = reader->Finish();
          if (ok && s.ok()) stored = (*download)->Finish();
          ok = ok && s.ok() && stored.ok();
          PC_LOG(kInfo, "kvs.snapshot_fetched")
          ("from", message.from())("chunks", chunks)("ok", ok)("error", s.error_message())(
              "store_error", stored.ToString());
        }
        if (ok) {
          const uint64_t slot = (*download)->slot();
          done(IncomingSnapshot{std::move(message), dir, slot});
        } else {
          RemoveDir(dir);
        }
        fetching_ = false;
      });
}

void SnapshotExecutor::Hold(IncomingSnapshot snapshot) {
  if (held_ && held_->dir != snapshot.dir) RemoveDir(held_->dir);  // superseded, never asked for
  held_ = std::move(snapshot);
}

absl::Status SnapshotExecutor::CanInstall(const paxos::SnapshotMeta& meta) const {
  if (!held_) {
    return absl::NotFoundError("the core installed a snapshot whose data never arrived");
  }
  // Cannot happen (the sender dumps after compacting, and its applied slot never goes below
  // a compaction point), but installing it would silently lose slots.
  if (held_->slot < meta.slot()) {
    return absl::OutOfRangeError(absl::StrCat("snapshot data at slot ", held_->slot,
                                              " is older than its metadata slot ", meta.slot()));
  }
  return absl::OkStatus();
}

absl::Status SnapshotExecutor::Install(const paxos::SnapshotMeta& meta) {
  if (absl::Status s = CanInstall(meta); !s.ok()) return s;
  PC_LOG(kInfo, "kvs.snapshot_install")
  ("slot", meta.slot())("data_slot", held_->slot)("dir", held_->dir);
  // The downloaded files replace the state machine and the snapshot's metadata is recorded;
  // a crash in the middle leaves the old state (download incomplete: the leader sends the
  // snapshot again) or is finished from the files at the next open, never half-replaced.
  absl::Status s = store_.InstallSnapshot(held_->dir, kSnapshotMeta, meta.SerializeAsString());
  if (s.ok()) s = store_.CompactLog(meta.slot());
  if (s.ok()) held_.reset();
  return s;
}

void SnapshotExecutor::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace penncloud::kvs::server
