#include "kvs/storage/replica_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kvs/machine/ownership.h"
#include "kvs/storage/cell_key.h"
#include "kvs/storage/disk.h"
#include "kvs/storage/disk_files.h"
#include "kvs/storage/family_options.h"
#include "kvs/storage/range_scan.h"
#include "kvs/storage/snapshot_file.h"
#include "proto/cluster.pb.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "rocksdb/write_batch.h"

namespace penncloud::kvs::storage {
namespace {

constexpr char kApplied[] = "applied";
constexpr char kHardState[] = "hard_state";
constexpr const char* kShardMap = machine::kShardMapKey;
constexpr const char* kMigrations = machine::kMigrationsKey;
constexpr char kFormatKey[] = "format";
constexpr char kInstalling[] = "installing";  // pb::SnapshotInstall

// Corruption a background job finds (a compaction reading a damaged SST) goes to the same
// sink as the corruption a read finds.
class CorruptionListener : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    if (error != nullptr && error->IsCorruption()) {
      ReportCorruption(absl::DataLossError("kvs store: background job: " + error->ToString()));
    }
  }
};

// The meta keys that belong to the state machine (and so to snapshots).
// "peers" is the replica's address book (kvs/server, docs/sharding.md section 7).
bool IsStateMeta(std::string_view key) {
  return key == kShardMap || key == kMigrations || key == "peers" ||
         key == ReplicaStore::kSessionClockKey;
}

// The row of a cell key ("" if malformed, which the store never writes).
std::string RowOfCellKey(std::string_view key) {
  auto parsed = ParseCellKey(key);
  return parsed ? std::string(parsed->row) : std::string();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReplicaStore>> ReplicaStore::Open(const std::string& dir,
                                                                 RowPosition position) {
  if (position == nullptr) return absl::InvalidArgumentError("kvs store: no row position");
  rocksdb::DBOptions options;
  options.env = DiskEnv();
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // A write-ahead log that ends in an incomplete record (a crash cut the last write short)
  // is cut there: that record was never synced, so never acknowledged. A record that is
  // whole but fails its checksum is damage, not a torn write, and the open fails, because
  // dropping it and everything after it would forget acknowledged writes and promises
  // (docs/kvs.md "Disk faults").
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  options.paranoid_checks = true;
  options.listeners.push_back(std::make_shared<CorruptionListener>());
  options.max_background_jobs = 2;
  options.max_total_wal_size = kMaxWalBytes;
  // Applies skip the write-ahead log, so a flush must never write one state family without
  // the others: the cells, the applied slot and the session records on disk stay one cut.
  options.atomic_flush = true;
  const rocksdb::ColumnFamilyOptions rewritten = RewrittenKeysFamilyOptions();
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, SmallFamilyOptions()},
      {"meta", rewritten},
      {"log", LogFamilyOptions()},
      {"data", DataFamilyOptions()},
      {"sessions", rewritten}};
  if (absl::Status s = CreateDirs(dir); !s.ok()) return s;
  std::unique_ptr<ReplicaStore> store(new ReplicaStore());
  store->position_ = position;
  store->machine_ = machine::StateMachine(position);
  store->dir_ = dir;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &store->handles_, &db);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open ", dir));
  store->db_.reset(db);
  store->meta_ = store->handles_[1];
  store->log_ = store->handles_[2];
  store->data_ = store->handles_[3];
  store->sessions_ = store->handles_[4];
  store->reclaimer_ = std::make_unique<LogReclaimer>(db, store->log_);
  // The consensus state is read strictly here, so that damage to it stops the open instead
  // of reading as "never promised anything" later (Meta() answers nullopt for both).
  for (const char* key :
       {kHardState, ReplicaStore::kSnapshotMetaKey, kApplied, kFormatKey, kInstalling}) {
    if (absl::StatusOr<std::optional<std::string>> v = store->StrictMeta(key); !v.ok()) {
      return v.status();
    }
  }
  if (absl::Status s = store->UpgradeFormat(dir); !s.ok()) return s;
  if (auto applied = store->Meta(kApplied)) store->applied_ = DecodeSlotKey(*applied);
  if (absl::Status s = store->FinishInterruptedInstall(); !s.ok()) return s;
  if (absl::Status s = store->LoadMachine(); !s.ok()) return s;
  return store;
}

absl::StatusOr<std::optional<std::string>> ReplicaStore::StrictMeta(const std::string& key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, absl::StrCat("read meta ", key));
  return std::optional<std::string>(std::move(value));
}

absl::Status ReplicaStore::UpgradeFormat(const std::string& dir) {
  if (auto format = Meta(kFormatKey)) {
    if (*format == kFormat) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("kvs store: ", dir, " is in store format ", *format,
                     ", which this kvs_server cannot read (it reads format ", kFormat,
                     "); run the kvs_server build that wrote it, or move the directory away "
                     "and let the replica catch up from its group by snapshot"));
  }
  // No marker: a new directory or one written before format 2. Rewrite every cell key in
  // one atomic write together with the marker, so a crash leaves the old layout whole
  // and the next open starts the upgrade over.
  rocksdb::WriteBatch batch;
  uint64_t cells = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), data_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    auto parsed = ParseFormat1CellKey(key);
    if (!parsed) {
      return absl::DataLossError(absl::StrCat(
          "kvs store: ", dir, " has no format marker and an unreadable cell key (", key.size(),
          " bytes); move the directory away and let the replica catch up from "
          "its group by snapshot"));
    }
    batch.Delete(data_, it->key());
    batch.Put(data_, SlotKey(position_(parsed->row)) + std::string(key), it->value());
    ++cells;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scan format-1 cells");
  batch.Put(meta_, kFormatKey, kFormat);
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(db_->Write(options, &batch),
                   absl::StrCat("upgrade ", cells, " cells to format ", kFormat));
}

ReplicaStore::~ReplicaStore() {
  if (db_ == nullptr) return;
  reclaimer_.reset();
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::Status ReplicaStore::Persist(const LogWrite& write, bool sync) {
  rocksdb::WriteBatch batch;
  if (write.truncate_from) {
    // Entries past the end do not exist, so an open range end is safe.
    batch.DeleteRange(log_, SlotKey(*write.truncate_from), SlotKey(UINT64_MAX));
  }
  for (const auto& [slot, entry] : write.entries) batch.Put(log_, SlotKey(slot), entry);
  if (write.hard_state) batch.Put(meta_, kHardState, *write.hard_state);
  rocksdb::WriteOptions options;
  options.sync = sync;
  return FromRocks(db_->Write(options, &batch), "persist log");
}

std::optional<std::string> ReplicaStore::Meta(const std::string& key) const {
  absl::StatusOr<std::optional<std::string>> value = StrictMeta(key);
  return value.ok() ? *value : std::nullopt;
}

absl::Status ReplicaStore::PutMeta(const std::string& key, const std::string& value, bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  return FromRocks(db_->Put(options, meta_, key, value), "put meta");
}

std::optional<std::string> ReplicaStore::HardState() const { return Meta(kHardState); }

absl::Status ReplicaStore::ReadLog(uint64_t from, uint64_t to,
                                   std::vector<std::pair<uint64_t, std::string>>* out) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
  uint64_t want = from;
  for (it->Seek(SlotKey(from)); it->Valid() && want <= to; it->Next()) {
    const uint64_t slot = DecodeSlotKey(it->key().ToStringView());
    if (slot != want) break;
    out->emplace_back(slot, it->value().ToString());
    ++want;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read log");
  if (want <= to) {
    return absl::NotFoundError(absl::StrCat("kvs store: log slot ", want, " missing"));
  }
  return absl::OkStatus();
}

std::pair<uint64_t, uint64_t> ReplicaStore::LogBounds() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
  it->SeekToFirst();
  if (!it->Valid()) {
    // Damage reads as an empty log here; FromRocks tells the corruption sink about it.
    FromRocks(it->status(), "log bounds").IgnoreError();
    return {0, 0};
  }
  const uint64_t first = DecodeSlotKey(it->key().ToStringView());
  it->SeekToLast();
  return {first, DecodeSlotKey(it->key().ToStringView())};
}

absl::Status ReplicaStore::Scrub(absl::FunctionRef<bool(size_t bytes)> keep_going) const {
  rocksdb::ReadOptions options;
  options.verify_checksums = true;
  options.fill_cache = false;  // one pass over everything must not evict what serves reads
  options.readahead_size = 2 << 20;
  for (rocksdb::ColumnFamilyHandle* family : handles_) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      // For a blob, value() reads its bytes, and reading them checks them.
      if (!keep_going(it->key().size() + it->value().size())) return absl::OkStatus();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scrub " + family->GetName());
  }
  return absl::OkStatus();
}

absl::Status ReplicaStore::CompactLog(uint64_t through) {
  if (const uint64_t durable = DurableAppliedSlot(); through > durable) {
    return absl::FailedPreconditionError(absl::StrCat("kvs store: log compaction through slot ",
                                                      through, " is past the durable applied slot ",
                                                      durable));
  }
  rocksdb::WriteBatch batch;
  batch.DeleteRange(log_, SlotKey(0), SlotKey(through + 1));
  absl::Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "compact log");
  if (s.ok()) reclaimer_->Reclaim(through);
  return s;
}

uint64_t ReplicaStore::DurableAppliedSlot() const {
  // Once an apply has skipped the write-ahead log, a persisted-tier read skips the
  // memtables: it answers from the tables flushes recorded in the MANIFEST. Before, the
  // memtables hold only logged writes, and the applied slot only from a synced install.
  rocksdb::ReadOptions persisted;
  persisted.read_tier = rocksdb::kPersistedTier;
  std::string applied;
  rocksdb::Status s = db_->Get(persisted, meta_, kApplied, &applied);
  if (s.ok()) return DecodeSlotKey(applied);
  // Damage reads as nothing durable (no compaction); FromRocks tells the sink about it.
  if (!s.IsNotFound()) FromRocks(s, "read durable applied slot").IgnoreError();
  return 0;
}

absl::Status ReplicaStore::StartStateFlush() {
  const uint64_t durable = DurableAppliedSlot();
  const uint64_t applied = applied_.load();
  // One flush at a time: the last one asked for has not reached the disk yet.
  if (flush_asked_ > durable || applied <= durable) return absl::OkStatus();
  absl::Status s = FlushAll(/*wait=*/false);
  if (s.ok()) flush_asked_ = applied;
  return s;
}

absl::Status ReplicaStore::FlushAll(bool wait) {
  rocksdb::FlushOptions options;
  options.wait = wait;
  // Waiting out a write stall here would block the caller as long as the flush itself.
  options.allow_write_stall = true;
  // Every family, as RocksDB's own flushes take every family with unflushed writes: a
  // manual flush of fewer, beside one of those, leaves RocksDB 7.8 one flush job whose
  // families carry different flush reasons, which it asserts against (and aborts on).
  return FromRocks(db_->Flush(options, handles_), "flush");
}

uint64_t ReplicaStore::LogBytes() const {
  uint64_t size = 0;
  db_->GetIntProperty(log_, "rocksdb.estimate-live-data-size", &size);
  uint64_t mem = 0;
  db_->GetIntProperty(log_, "rocksdb.cur-size-all-mem-tables", &mem);
  return size + mem;
}

absl::Status ReplicaStore::WriteApplied(rocksdb::WriteBatch* batch, uint64_t slot) {
  batch->Put(meta_, kApplied, SlotKey(slot));
  return absl::OkStatus();
}

absl::Status ReplicaStore::LoadMachine() {
  uint64_t records = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), sessions_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++records;
  // A damaged block ends the scan early: the count (and the store) cannot be trusted.
  if (absl::Status s = FromRocks(it->status(), "count sessions"); !s.ok()) return s;
  machine_.Load(Meta(kShardMap), Meta(kMigrations), Meta(kSessionClockKey), records);
  session_records_ = records;
  Publish();
  return absl::OkStatus();
}

void ReplicaStore::Publish() {
  std::lock_guard<std::mutex> lock(published_mu_);
  published_ = machine_.Migrations();
}

pb::MigrationStep ReplicaStore::StepOf(uint64_t id) const {
  std::lock_guard<std::mutex> lock(published_mu_);
  for (const pb::MigrationEntry& e : published_.entries()) {
    if (e.id() == id) return e.step();
  }
  return pb::STEP_NONE;
}

absl::Status ReplicaStore::DumpRange(const pb::MigrationEntry& m, size_t chunk_bytes,
                                     const std::function<bool(const pb::RangeChunk&)>& sink) const {
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snap;
  pb::RangeChunk chunk;
  size_t bytes = 0;
  bool stopped = false;
  auto flush = [&] {
    if (bytes < chunk_bytes) return true;
    if (!sink(chunk)) stopped = true;
    chunk.Clear();
    bytes = 0;
    return !stopped;
  };
  absl::Status status = ForEachInRange(db_.get(), data_, read, m, [&](rocksdb::Iterator* it) {
    const std::string_view key = it->key().ToStringView();
    auto parsed = ParseCellKey(key);
    if (!parsed) return true;  // never written by this store
    pb::RangeCell* cell = chunk.add_cells();
    cell->set_row(std::string(parsed->row));
    cell->set_column(std::string(key.substr(parsed->column_offset)));
    cell->set_value(it->value().ToString());
    bytes += key.size() + it->value().size();
    return flush();
  });
  // A session's record goes with the range of the row it last wrote: only a retry of that
  // last write can still arrive, and it goes where that row lives. Records written before
  // SessionRecord.position go with every range (merging keeps the higher sequence, so an
  // extra copy only answers requests that were already answered).
  std::unique_ptr<rocksdb::Iterator> sit(db_->NewIterator(read, sessions_));
  for (sit->SeekToFirst(); sit->Valid() && !stopped && status.ok(); sit->Next()) {
    pb::SessionRecord record;
    if (!record.ParseFromString(sit->value().ToString())) continue;
    if (record.has_position() && !machine::InRange(m, record.position())) continue;
    pb::RangeSession* session = chunk.add_sessions();
    session->set_session(DecodeSlotKey(sit->key().ToStringView()));
    *session->mutable_record() = std::move(record);
    bytes += sit->key().size() + sit->value().size();
    flush();
  }
  if (status.ok() && !sit->status().ok()) status = FromRocks(sit->status(), "dump sessions");
  db_->ReleaseSnapshot(snap);
  if (!status.ok()) return status;
  if (stopped) return absl::CancelledError("kvs store: range receiver went away");
  chunk.set_last(true);
  if (!sink(chunk)) return absl::CancelledError("kvs store: range receiver went away");
  return absl::OkStatus();
}

absl::StatusOr<ApplyOutcome> ReplicaStore::Apply(uint64_t slot, const pb::Command& command) {
  absl::StatusOr<std::vector<ApplyOutcome>> out = ApplySlot(slot, {command});
  if (!out.ok()) return out.status();
  return (*out)[0];
}

absl::StatusOr<std::vector<ApplyOutcome>> ReplicaStore::ApplySlot(
    uint64_t slot, const std::vector<pb::Command>& commands, const ApplyHooks* hooks,
    const Decided& decided) {
  // Reads go through the batch so that a command sees the effects of earlier commands of
  // the same slot (including a retry of a request that is also in this slot).
  rocksdb::WriteBatchWithIndex batch;
  WriteApplied(batch.GetWriteBatch(), slot).IgnoreError();
  // Plain PUTs and DELETEs read no cell, and the session records a command reads come from
  // the cache, which every record written in this slot is in: such a slot's writes skip
  // the batch's index (building it was 15% of apply_bench's instructions; docs/kvs.md).
  // The batch written is the same either way.
  const bool reads_back = !std::all_of(commands.begin(), commands.end(), [](const auto& c) {
    return c.op() == pb::OP_PUT || c.op() == pb::OP_DELETE;
  });
  RocksSlot store(RocksFamilies{db_.get(), meta_, data_, sessions_}, position_, &session_cache_,
                  &batch, /*index_writes=*/reads_back);
  bool migrated = false;
  absl::StatusOr<std::vector<ApplyOutcome>> outcomes =
      machine_.ApplySlot(commands, store, hooks, &migrated);
  if (!outcomes.ok()) return outcomes.status();
  if (decided && !migrated) decided(*outcomes);
  // The synced log entry is this slot's durable copy; the atomic flush writes the cells
  // (header comment).
  rocksdb::WriteOptions unlogged;
  unlogged.disableWAL = true;
  absl::Status s = FromRocks(db_->Write(unlogged, batch.GetWriteBatch()), "apply");
  if (!s.ok()) return s;
  session_records_ = machine_.SessionRecords();
  // Only now may FetchRange see a FREEZE: its snapshot must hold every earlier write.
  if (migrated) Publish();
  applied_ = slot;
  if (decided && migrated) decided(*outcomes);
  return outcomes;
}

absl::Status ReplicaStore::ForEachLogEntry(
    const std::function<void(uint64_t, const std::string&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    fn(DecodeSlotKey(it->key().ToStringView()), it->value().ToString());
  }
  return FromRocks(it->status(), "scan log");
}

absl::StatusOr<std::optional<std::string>> ReplicaStore::Get(const std::string& row,
                                                             const std::string& column) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), data_, Key(row, column), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get");
  return std::optional<std::string>(std::move(value));
}

absl::Status ReplicaStore::List(const std::string& row, const std::string& after, int limit,
                                bool with_values, std::vector<ListedCell>* cells,
                                bool* more) const {
  const std::string prefix = RowPrefix(position_(row), row);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), data_));
  *more = false;
  for (it->Seek(prefix + after); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (!key.starts_with(prefix)) break;
    std::string column(key.data() + prefix.size(), key.size() - prefix.size());
    if (column <= after && !(after.empty() && column.empty())) continue;
    if (static_cast<int>(cells->size()) >= limit) {
      *more = true;
      break;
    }
    cells->push_back(ListedCell{std::move(column), with_values ? it->value().ToString() : ""});
  }
  return FromRocks(it->status(), "list");
}

absl::Status ReplicaStore::ListRows(const std::string& after, int limit,
                                    std::vector<std::string>* rows, bool* more) const {
  // Every cell key of a row starts with RowPrefix(row), so the first key past that prefix
  // (the prefix with its last byte incremented, carrying) is the next row's first cell.
  auto past = [](std::string prefix) {
    while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xff) prefix.pop_back();
    if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
    return prefix;
  };
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), data_));
  *more = false;
  if (after.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(past(RowPrefix(position_(after), after)));
  }
  while (it->Valid()) {
    std::string row = RowOfCellKey(it->key().ToStringView());
    if (static_cast<int>(rows->size()) >= limit) {
      *more = true;
      break;
    }
    const std::string next = past(RowPrefix(position_(row), row));
    rows->push_back(std::move(row));
    if (next.empty()) break;
    it->Seek(next);
  }
  return FromRocks(it->status(), "list rows");
}

absl::Status ReplicaStore::DumpSnapshot(
    size_t chunk_bytes, const std::function<bool(const pb::SnapshotChunk&)>& sink) const {
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snap;
  std::string applied;
  db_->Get(read, meta_, kApplied, &applied);
  pb::SnapshotChunk chunk;
  chunk.set_slot(applied.empty() ? 0 : DecodeSlotKey(applied));
  size_t bytes = 0;
  absl::Status status;
  bool stopped = false;
  // Family 2 is the meta family, of which only the shard map belongs to the state machine.
  for (uint32_t family = 0; family < 3 && !stopped; ++family) {
    rocksdb::ColumnFamilyHandle* handle = family == 0 ? data_ : family == 1 ? sessions_ : meta_;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, handle));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (family == 2 && !IsStateMeta(it->key().ToStringView())) continue;
      chunk.add_keys(it->key().ToString());
      chunk.add_values(it->value().ToString());
      chunk.add_families(family);
      bytes += it->key().size() + it->value().size();
      if (bytes >= chunk_bytes) {
        if (!sink(chunk)) {
          stopped = true;
          break;
        }
        const uint64_t slot = chunk.slot();
        chunk.Clear();
        chunk.set_slot(slot);
        bytes = 0;
      }
    }
    if (!it->status().ok()) status = FromRocks(it->status(), "dump");
  }
  db_->ReleaseSnapshot(snap);
  if (!status.ok()) return status;
  if (stopped) return absl::CancelledError("kvs store: snapshot receiver went away");
  chunk.set_last(true);
  if (!sink(chunk)) return absl::CancelledError("kvs store: snapshot receiver went away");
  return absl::OkStatus();
}

absl::Status ReplicaStore::InstallSnapshot(const std::vector<pb::SnapshotChunk>& chunks,
                                           const std::string& meta_key,
                                           const std::string& meta_value) {
  if (chunks.empty()) return absl::InvalidArgumentError("kvs store: empty snapshot");
  auto download = SnapshotDownload::Create(SnapshotInbox() + "/local");
  if (!download.ok()) return download.status();
  for (const pb::SnapshotChunk& chunk : chunks) {
    if (absl::Status s = (*download)->Add(chunk); !s.ok()) return s;
  }
  if (absl::Status s = (*download)->Finish(); !s.ok()) return s;
  return InstallSnapshot((*download)->dir(), meta_key, meta_value);
}

absl::Status ReplicaStore::InstallSnapshot(const std::string& download_dir,
                                           const std::string& meta_key,
                                           const std::string& meta_value) {
  absl::StatusOr<SnapshotFiles> files = ReadSnapshotDir(download_dir);
  if (!files.ok()) return files.status();
  rocksdb::WriteOptions synced;
  synced.sync = true;
  session_cache_.clear();
  // 1. The marker, with the old state machine cleared, in one synced write. Cell keys are
  // an 8-byte position then a row length whose first byte is 0x00 (rows are far shorter
  // than 16 MiB), and session keys are 8 bytes, so nine 0xff bytes bound both families.
  pb::SnapshotInstall marker;
  marker.set_dir(download_dir);
  marker.set_meta_key(meta_key);
  marker.set_meta_value(meta_value);
  rocksdb::WriteBatch clear;
  clear.Put(meta_, kInstalling, marker.SerializeAsString());
  const std::string lo;
  const std::string hi(9, '\xff');
  clear.DeleteRange(data_, lo, hi);
  clear.DeleteRange(sessions_, lo, hi);
  clear.Delete(meta_, kShardMap);
  clear.Delete(meta_, kMigrations);
  clear.Delete(meta_, kSessionClockKey);
  if (absl::Status s = FromRocks(db_->Write(synced, &clear), "clear for snapshot"); !s.ok()) {
    return s;
  }
  if (crash_install_for_test_) {
    crash_install_for_test_ = false;
    return absl::AbortedError("kvs store: install stopped after clearing (test)");
  }
  // 2. Both families' files at once (atomic across families). Copied, not moved, so a
  // crash before step 3 can redo the install from the same directory.
  std::vector<rocksdb::IngestExternalFileArg> ingest;
  for (const auto& [family, path] :
       {std::pair(data_, files->data_sst), std::pair(sessions_, files->sessions_sst)}) {
    if (!path) continue;
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = family;
    arg.external_files = {*path};
    arg.options.move_files = false;
    ingest.push_back(std::move(arg));
  }
  if (!ingest.empty()) {
    if (absl::Status s = FromRocks(db_->IngestExternalFiles(ingest), "ingest snapshot"); !s.ok()) {
      return s;
    }
  }
  // 3. The state meta keys, the applied slot and the caller's metadata; the marker goes.
  rocksdb::WriteBatch finish;
  const pb::SnapshotChunk& state = files->state;
  for (int i = 0; i < state.keys_size() && i < state.values_size(); ++i) {
    if (IsStateMeta(state.keys(i))) finish.Put(meta_, state.keys(i), state.values(i));
  }
  WriteApplied(&finish, state.slot()).IgnoreError();
  finish.Put(meta_, meta_key, meta_value);
  finish.Delete(meta_, kInstalling);
  // Written with the write-ahead log and synced, like the ingested files: the installed
  // state is durable at once, and the log below it may go.
  absl::Status s = FromRocks(db_->Write(synced, &finish), "install snapshot");
  if (s.ok()) {
    applied_ = state.slot();
    flush_asked_ = 0;
    // Already durable; flushed too so that DurableAppliedSlot, which reads the tables,
    // says so rather than the old state's slot.
    s = FlushAll(/*wait=*/true);
  }
  if (absl::Status loaded = LoadMachine(); s.ok()) s = loaded;
  if (s.ok()) RemoveTree(download_dir).IgnoreError();  // only space: the install is done
  return s;
}

absl::Status ReplicaStore::FinishInterruptedInstall() {
  std::optional<std::string> bytes = Meta(kInstalling);
  if (!bytes) return absl::OkStatus();
  pb::SnapshotInstall marker;
  if (!marker.ParseFromString(*bytes)) {
    return absl::DataLossError("kvs store: unreadable snapshot install marker");
  }
  // A crash cut an install short: the old state is gone, the new one is on disk whole
  // (the download was complete before the marker was written): finish it.
  absl::Status s = InstallSnapshot(marker.dir(), marker.meta_key(), marker.meta_value());
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "kvs store: a snapshot install was interrupted and cannot be finished (", s.message(),
        "); move the directory away and let the replica catch up from its group"));
  }
  return absl::OkStatus();
}

}  // namespace penncloud::kvs::storage
