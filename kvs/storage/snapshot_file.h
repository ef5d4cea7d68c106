// A snapshot as it arrives from a peer, written to disk chunk by chunk so a replica's memory
// stays at one chunk whatever the snapshot's size (docs/kvs.md "Snapshots and compaction").
//
// A download directory holds:
//   data.sst       the data family's cells, in key order (absent if there are none)
//   sessions.sst   the at-most-once table, in key order (absent if empty)
//   state.pb       a pb::SnapshotChunk: the slot and the state machine's meta keys; written
//                  last and synced, so its presence marks a complete download
// The sender dumps each family in key order (ReplicaStore::DumpSnapshot), which is what
// an SST file needs. ReplicaStore::InstallSnapshot(dir, ...) ingests the directory.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "proto/kvs.pb.h"
#include "rocksdb/sst_file_writer.h"

namespace penncloud::kvs::storage {

class SnapshotDownload {
 public:
  // Starts an empty download in `dir` (removed first if it exists).
  static absl::StatusOr<std::unique_ptr<SnapshotDownload>> Create(const std::string& dir);
  ~SnapshotDownload();

  absl::Status Add(const pb::SnapshotChunk& chunk);
  // After the last chunk: closes the files and syncs the directory's contents.
  absl::Status Finish();

  uint64_t slot() const { return state_.slot(); }
  const std::string& dir() const { return dir_; }

 private:
  explicit SnapshotDownload(std::string dir) : dir_(std::move(dir)) {}
  absl::Status Put(uint32_t family, const std::string& key, const std::string& value);

  const std::string dir_;
  bool first_ = true;
  // One writer per family, opened at its first key (families 0 data, 1 sessions).
  std::unique_ptr<rocksdb::SstFileWriter> writers_[2];
  pb::SnapshotChunk state_;  // slot + family-2 (meta) pairs
};

// A complete download, read back for installing.
struct SnapshotFiles {
  std::optional<std::string> data_sst;
  std::optional<std::string> sessions_sst;
  pb::SnapshotChunk state;  // slot + meta pairs
};
absl::StatusOr<SnapshotFiles> ReadSnapshotDir(const std::string& dir);

}  // namespace penncloud::kvs::storage
