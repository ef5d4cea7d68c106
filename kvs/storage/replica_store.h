// Everything one replica keeps on disk, in one RocksDB database:
//
//   column family  key                         value
//   "meta"         "hard_state"                the consensus core's hard state (opaque)
//                  "snapshot_meta"             the core's metadata of the last snapshot
//                  "applied"                   last slot applied to the state machine
//                  "shard_map"                 the cluster map the group applied (OP_SET_MAP)
//                  "shard_migrations"          pb::MigrationTable (OP_MIGRATE)
//                  "format"                    the store format ("2"; see below)
//   "log"          SlotKey(slot)               one log entry as the core serialized it
//   "data"         CellKey(position, row, col) the cell's value (cell_key.h)
//   "sessions"     8-byte session id           pb::SessionRecord (at-most-once table)
//
// Format 2 puts the row's ring position in front of every cell key, so a ring range is at
// most two contiguous key ranges. A format-1 directory (no "format" key, cell keys without
// the position) is rewritten to format 2 on open, in one atomic write; an unknown format
// is refused, never read.
//
// The log and hard state are written with sync (fsync of RocksDB's write-ahead log), one
// write per batch of changes (group commit). State machine applies skip the write-ahead
// log: the synced log entry is the value's durable copy, and the applied cells reach disk
// once, when their memtable is flushed. Flushes are atomic across families (RocksDB's
// atomic_flush), so the cells, the applied slot and the session records on disk are always
// one point-in-time cut: after a crash the store opens at some earlier applied slot with
// exactly that slot's state, and the replica replays the log above it. The log may
// therefore only be compacted up to the applied slot a flush has made durable
// (DurableAppliedSlot; docs/kvs.md "Applies without the write-ahead log").
// RocksDB's write-ahead log checksums every record and on open drops an incomplete last
// record (the unsynced suffix a crash cut short); a whole record that fails its checksum,
// like a damaged SST block on any read, is corruption: DATA_LOSS, reported to disk.h's
// sink. All file I/O goes through disk.h's file system.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvs/machine/state_machine.h"
#include "kvs/storage/cell_key.h"
#include "kvs/storage/log_reclaimer.h"
#include "kvs/storage/rocks_slot.h"
#include "proto/kvs.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/write_batch_with_index.h"

namespace penncloud::kvs::storage {

struct LogWrite {
  std::optional<std::string> hard_state;
  // Entries at or after this slot are removed before `entries` are written (a new leader
  // overwrote an uncommitted suffix).
  std::optional<uint64_t> truncate_from;
  std::vector<std::pair<uint64_t, std::string>> entries;  // (slot, serialized entry)
  bool Empty() const { return !hard_state && !truncate_from && entries.empty(); }
};

// The state machine's rules live in kvs/machine (state_machine.h); this store is their
// RocksDB backend.
using ApplyOutcome = machine::ApplyOutcome;
using ApplyHooks = machine::ApplyHooks;

struct ListedCell {
  std::string column;
  std::string value;
};

class ReplicaStore {
 public:
  // `position` places rows on the ring (shard::RingPosition in the server); it decides the
  // key layout, so every open of one directory must pass the same function.
  static absl::StatusOr<std::unique_ptr<ReplicaStore>> Open(const std::string& dir,
                                                            RowPosition position);
  static constexpr char kFormat[] = "2";
  // The meta key of the consensus core's snapshot metadata (paxos::SnapshotMeta).
  static constexpr char kSnapshotMetaKey[] = "snapshot_meta";
  static constexpr const char* kSessionClockKey = machine::kSessionClockKey;
  ~ReplicaStore();

  // ---- Durable log (consensus side). With `sync` the write is fsync'd before returning;
  // without, it becomes durable with the next synced write (RocksDB keeps WAL order).
  absl::Status Persist(const LogWrite& write, bool sync = true);
  std::optional<std::string> HardState() const;
  // Entries in [from, to], in slot order; fails if any is missing (compacted).
  absl::Status ReadLog(uint64_t from, uint64_t to,
                       std::vector<std::pair<uint64_t, std::string>>* out) const;
  // First and last slot present in the log; {0, 0} when empty.
  std::pair<uint64_t, uint64_t> LogBounds() const;
  // Drops entries with slot <= through (they are covered by the state machine); their disk
  // space comes back in the background (log_reclaimer.h). FAILED_PRECONDITION when `through`
  // is above DurableAppliedSlot(): a crash would then reopen the state machine below
  // entries that are gone.
  absl::Status CompactLog(uint64_t through);
  // Reads every record of every family, SST blocks and blob files alike, with checksums
  // checked and without filling the block cache: damage no request has read yet is found
  // (and reported to the corruption sink, disk.h) before a leader needs the cell.
  // `keep_going` is called after each record with the bytes it read (the caller paces the
  // pass by blocking in it); once it returns false the pass ends early, OK.
  absl::Status Scrub(absl::FunctionRef<bool(size_t bytes)> keep_going) const;

  // Tests: waits until the space of every compacted entry has come back.
  void WaitLogReclaimedForTest() { reclaimer_->WaitIdle(); }
  uint64_t LogBytes() const;

  // nullopt when the key is absent or cannot be read; Open has already read the consensus
  // keys (hard state, snapshot metadata, applied slot) strictly.
  std::optional<std::string> Meta(const std::string& key) const;
  // Absent (nullopt) and unreadable (DATA_LOSS for corruption) told apart.
  absl::StatusOr<std::optional<std::string>> StrictMeta(const std::string& key) const;
  absl::Status PutMeta(const std::string& key, const std::string& value, bool sync);

  // ---- State machine (kvs/machine/state_machine.h holds the rules).
  uint64_t AppliedSlot() const { return applied_.load(); }
  // The applied slot a crash cannot take the store below: the one in flushed tables.
  // Applies skip the write-ahead log, so AppliedSlot() runs ahead of it until a flush.
  uint64_t DurableAppliedSlot() const;
  // Starts an atomic flush of every family without waiting for it (a flush of many
  // megabytes must not stall the replica's loop); DurableAppliedSlot() reaches the slot
  // applied now once it has finished. Nothing to do while one is under way. Apply thread
  // only.
  absl::Status StartStateFlush();
  // Applies the commands of one slot in order (each at most once per session sequence)
  // and records `slot` as applied, all in one atomic write. No commands: only the latter.
  // `decided`, if set, gets the outcomes once they are known, before that write (after it
  // when the slot moved a migration step, which FetchRange, on another thread, must find
  // written).
  using Decided = std::function<void(const std::vector<ApplyOutcome>&)>;
  absl::StatusOr<std::vector<ApplyOutcome>> ApplySlot(uint64_t slot,
                                                      const std::vector<pb::Command>& commands,
                                                      const ApplyHooks* hooks = nullptr,
                                                      const Decided& decided = nullptr);
  // The serialized cluster map last applied ("" = none) and its version (0 = none).
  const std::string& ShardMap() const { return machine_.ShardMap(); }
  uint64_t MapVersion() const { return machine_.MapVersion(); }
  // The group's migration table (apply thread only).
  const pb::MigrationTable& Migrations() const { return machine_.Migrations(); }
  // The step of migration `id` as written to disk (any thread); STEP_NONE if unknown.
  pb::MigrationStep StepOf(uint64_t id) const;
  // The cells of `m`'s range and the session records whose last write was in it (or that
  // predate SessionRecord.position), from one consistent view, in chunks of about
  // `chunk_bytes`. Reads only the range's keys (plus the session table).
  absl::Status DumpRange(const pb::MigrationEntry& m, size_t chunk_bytes,
                         const std::function<bool(const pb::RangeChunk&)>& sink) const;
  absl::StatusOr<ApplyOutcome> Apply(uint64_t slot, const pb::Command& command);
  absl::Status SkipSlot(uint64_t slot) { return ApplySlot(slot, {}).status(); }
  // Calls `fn` for every log entry, in slot order.
  absl::Status ForEachLogEntry(const std::function<void(uint64_t, const std::string&)>& fn) const;

  absl::StatusOr<std::optional<std::string>> Get(const std::string& row,
                                                 const std::string& column) const;
  // Up to `limit` columns of `row` strictly after `after`; `more` says whether others exist.
  absl::Status List(const std::string& row, const std::string& after, int limit, bool with_values,
                    std::vector<ListedCell>* cells, bool* more) const;
  // Up to `limit` rows strictly after `after` in store order ("" = from the first), one seek
  // per row (admin reads; never the whole family at once); `more` says whether others exist.
  absl::Status ListRows(const std::string& after, int limit, std::vector<std::string>* rows,
                        bool* more) const;

  // ---- At-most-once sessions (session_table.cc; docs/kvs.md "The at-most-once table").
  // Records in the table: exact after each expiry sweep, plus the sessions opened since.
  uint64_t SessionRecords() const { return session_records_.load(); }
  // The table's clock, from the stamps of applied commands (apply thread only).
  const pb::SessionClock& SessionClockNow() const { return machine_.SessionClockNow(); }

  // ---- Snapshots: a consistent dump of the state machine (data + sessions + applied slot).
  // Calls `sink` with chunks of at most ~`chunk_bytes`; the first carries `slot`.
  absl::Status DumpSnapshot(size_t chunk_bytes,
                            const std::function<bool(const pb::SnapshotChunk&)>& sink) const;
  // Replaces the whole state machine with a dump (the chunks of one DumpSnapshot, the first
  // carrying its slot) and records `meta_value` under the meta key `meta_key`, in one synced
  // atomic write: a crash leaves either the old state machine or the new one, never a mix.
  absl::Status InstallSnapshot(const std::vector<pb::SnapshotChunk>& chunks,
                               const std::string& meta_key, const std::string& meta_value);
  // The same from a finished SnapshotDownload in `download_dir` (snapshot_file.h), which
  // it removes once installed. Memory stays small: the files are ingested, not read. Not
  // one atomic write: a synced marker (meta "installing") is written before the old state
  // is cleared and removed after the new one is in, and Open redoes an install it finds
  // marked, so a crash still leaves the old state machine or, after Open, the new one.
  absl::Status InstallSnapshot(const std::string& download_dir, const std::string& meta_key,
                               const std::string& meta_value);
  // Where a replica puts its downloads: a directory beside the store's own.
  std::string SnapshotInbox() const { return dir_ + ".snapshots"; }
  // Tests: the next install stops right after clearing the old state, as a crash would.
  void CrashNextInstallForTest() { crash_install_for_test_ = true; }

 private:
  ReplicaStore() = default;
  absl::Status WriteApplied(rocksdb::WriteBatch* batch, uint64_t slot);
  absl::Status FlushAll(bool wait);
  // The machine's state from the meta family and the session count, at open and after a
  // snapshot install.
  absl::Status LoadMachine();
  absl::Status UpgradeFormat(const std::string& dir);
  // Finishes a snapshot install a crash cut short (meta "installing"), at open.
  absl::Status FinishInterruptedInstall();
  std::string Key(const std::string& row, const std::string& column) const {
    return CellKey(position_(row), row, column);
  }

  RowPosition position_ = nullptr;
  std::string dir_;
  bool crash_install_for_test_ = false;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_ = nullptr;
  rocksdb::ColumnFamilyHandle* data_ = nullptr;
  rocksdb::ColumnFamilyHandle* sessions_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<LogReclaimer> reclaimer_;   // reset before the handles and the db go
  std::atomic<uint64_t> applied_{0};          // only the apply thread writes it
  uint64_t flush_asked_ = 0;                  // applied slot at the last StartStateFlush
  SessionCache session_cache_;                // apply thread only
  machine::StateMachine machine_{nullptr};    // apply thread only
  std::atomic<uint64_t> session_records_{0};  // machine_'s count, for other threads
  // migrations_ as of the last write to disk, for other threads (FetchRange).
  mutable std::mutex published_mu_;
  pb::MigrationTable published_;  // GUARDED_BY(published_mu_)
  void Publish();
};

}  // namespace penncloud::kvs::storage
