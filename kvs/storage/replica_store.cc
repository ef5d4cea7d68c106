#include "kvs/storage/replica_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "kvs/storage/cell_key.h"
#include "kvs/storage/snapshot_file.h"
#include "proto/cluster.pb.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "rocksdb/write_batch.h"

namespace penncloud::kvs::storage {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("kvs store: ", what, ": ", s.ToString()));
}

std::string SessionKey(uint64_t session) { return SlotKey(session); }

constexpr char kApplied[] = "applied";
constexpr char kHardState[] = "hard_state";
constexpr char kShardMap[] = "shard_map";
constexpr char kMigrations[] = "shard_migrations";
constexpr char kFormatKey[] = "format";
constexpr char kInstalling[] = "installing";  // pb::SnapshotInstall

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

// The cell keys of ring range (start, end] as at most two key intervals [lo, hi) ("" hi: to
// the end of the family). Positions lead every key, so the intervals hold exactly the
// range's cells.
std::vector<std::pair<std::string, std::string>> KeyIntervals(const pb::MigrationEntry& m) {
  const uint64_t start = m.start();
  const uint64_t end = m.end();
  auto above = [](uint64_t p) { return p == UINT64_MAX ? std::string() : SlotKey(p + 1); };
  if (start < end) return {{SlotKey(start + 1), above(end)}};
  // Wrapping (or the whole ring when start == end): (start, 2^64-1] and [0, end].
  std::vector<std::pair<std::string, std::string>> out;
  if (start != UINT64_MAX) out.emplace_back(SlotKey(start + 1), std::string());
  out.emplace_back(std::string(), above(end));
  return out;
}

// Calls fn(iterator) for every key of the range, in key order, from one read view.
absl::Status ForEachInRange(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                            rocksdb::ReadOptions read, const pb::MigrationEntry& m,
                            const std::function<bool(rocksdb::Iterator*)>& fn) {
  for (const auto& [lo, hi] : KeyIntervals(m)) {
    rocksdb::Slice upper(hi);
    read.iterate_upper_bound = hi.empty() ? nullptr : &upper;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, family));
    for (it->Seek(lo); it->Valid(); it->Next()) {
      if (!fn(it.get())) return absl::OkStatus();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scan range");
  }
  return absl::OkStatus();
}

// (start, end], wrapping when start >= end (start == end: the whole ring).
bool InRange(const pb::MigrationEntry& m, uint64_t p) {
  if (m.start() < m.end()) return p > m.start() && p <= m.end();
  return p > m.start() || p <= m.end();
}

pb::MigrationEntry* FindEntry(pb::MigrationTable& table, uint64_t id) {
  for (pb::MigrationEntry& e : *table.mutable_entries()) {
    if (e.id() == id) return &e;
  }
  return nullptr;
}

// The version of a serialized cluster map; 0 for none (or unreadable, which never happens:
// maps are validated before they are proposed).
uint64_t VersionOf(const std::string& bytes) {
  cluster::ClusterMap map;
  if (bytes.empty() || !map.ParseFromString(bytes)) return 0;
  return map.version();
}

// Every migration with a lower id than this has finished (or was aborted) under the map:
// the map holds the migrations of the current rebalance and ids only grow, so ids below
// its lowest one (or below next_migration_id when it has none) are over for good. Their
// table entries can go: the ring alone gives the same verdict (docs/sharding.md section 10).
uint64_t FinishedBelow(const std::string& bytes) {
  cluster::ClusterMap map;
  if (bytes.empty() || !map.ParseFromString(bytes)) return 0;
  uint64_t lowest = map.next_migration_id();
  for (const cluster::Migration& m : map.migrations()) lowest = std::min(lowest, m.id());
  return lowest;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReplicaStore>> ReplicaStore::Open(const std::string& dir,
                                                                 RowPosition position) {
  if (position == nullptr) return absl::InvalidArgumentError("kvs store: no row position");
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // A torn or corrupt tail of the write-ahead log (a crash mid-write) is cut off at the
  // last intact record; nothing after it was acknowledged, because acknowledgement waits
  // for fsync of the record.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.max_background_jobs = 2;
  options.max_total_wal_size = 64 << 20;
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = 16 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {{rocksdb::kDefaultColumnFamilyName, cf},
                                                           {"meta", cf},
                                                           {"log", cf},
                                                           {"data", cf},
                                                           {"sessions", cf}};
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    return absl::InternalError(absl::StrCat("kvs store: mkdir ", dir, ": ", error.message()));
  std::unique_ptr<ReplicaStore> store(new ReplicaStore());
  store->position_ = position;
  store->dir_ = dir;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &store->handles_, &db);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open ", dir));
  store->db_.reset(db);
  store->meta_ = store->handles_[1];
  store->log_ = store->handles_[2];
  store->data_ = store->handles_[3];
  store->sessions_ = store->handles_[4];
  if (absl::Status s = store->UpgradeFormat(dir); !s.ok()) return s;
  if (auto applied = store->Meta(kApplied)) store->applied_ = DecodeSlotKey(*applied);
  if (absl::Status s = store->FinishInterruptedInstall(); !s.ok()) return s;
  store->LoadShardMap();
  store->LoadSessions();
  return store;
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
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (!s.ok()) return std::nullopt;
  return value;
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
  if (!it->Valid()) return {0, 0};
  const uint64_t first = DecodeSlotKey(it->key().ToStringView());
  it->SeekToLast();
  return {first, DecodeSlotKey(it->key().ToStringView())};
}

absl::Status ReplicaStore::CompactLog(uint64_t through) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(log_, SlotKey(0), SlotKey(through + 1));
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "compact log");
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

void ReplicaStore::LoadShardMap() {
  shard_map_ = Meta(kShardMap).value_or("");
  map_version_ = VersionOf(shard_map_);
  migrations_.Clear();
  if (auto table = Meta(kMigrations)) migrations_.ParseFromString(*table);
  finished_below_ = FinishedBelow(shard_map_);
  Publish();
}

bool ReplicaStore::PruneMigrations() {
  finished_below_ = FinishedBelow(shard_map_);
  const int before = migrations_.entries_size();
  auto* entries = migrations_.mutable_entries();
  entries->erase(
      std::remove_if(entries->begin(), entries->end(),
                     [&](const pb::MigrationEntry& e) { return e.id() < finished_below_; }),
      entries->end());
  return migrations_.entries_size() != before;
}

void ReplicaStore::Publish() {
  std::lock_guard<std::mutex> lock(published_mu_);
  published_ = migrations_;
}

pb::MigrationStep ReplicaStore::StepOf(uint64_t id) const {
  std::lock_guard<std::mutex> lock(published_mu_);
  for (const pb::MigrationEntry& e : published_.entries()) {
    if (e.id() == id) return e.step();
  }
  return pb::STEP_NONE;
}

absl::Status ReplicaStore::DeleteRange(const pb::MigrationEntry& m,
                                       rocksdb::WriteBatchWithIndex* batch) {
  // Point deletes of exactly the range's keys (WriteBatchWithIndex has no range delete,
  // and later commands of the slot must see the deletes).
  return ForEachInRange(db_.get(), data_, rocksdb::ReadOptions(), m, [&](rocksdb::Iterator* it) {
    batch->Delete(data_, it->key());
    return true;
  });
}

absl::Status ReplicaStore::ApplyMigrate(const pb::MigrateStep& step,
                                        rocksdb::WriteBatchWithIndex* batch) {
  pb::MigrationEntry* entry = FindEntry(migrations_, step.migration().id());
  if (entry == nullptr && step.migration().id() < finished_below_) {
    // The migration finished (or was aborted) and its entry was pruned: this is a late
    // copy from a rebalancer that lost its lease. Recreating the entry would let a stale
    // INSTALL_CHUNK reset a range this group serves, so it changes nothing.
    return absl::OkStatus();
  }
  if (entry == nullptr) {
    entry = migrations_.add_entries();
    *entry = step.migration();
    entry->set_step(pb::STEP_NONE);
  }
  // Every step is idempotent and never moves a migration backwards, so a retried or
  // reordered RPC leaves the table as the first application did.
  switch (step.kind()) {
    case pb::MIGRATE_FREEZE:
      if (entry->step() == pb::STEP_NONE) entry->set_step(pb::STEP_FROZEN);
      break;
    case pb::MIGRATE_INSTALL_CHUNK: {
      if (entry->step() >= pb::STEP_ACTIVE) break;  // serving it (or aborted): never touched
      if (step.attempt() != 0) {
        // Numbered chunks: chunk 0 of a newer attempt starts over, the next chunk of the
        // current attempt continues it; a late or repeated chunk (a retried RPC chosen
        // twice, an older attempt's proposal chosen after a newer one) is ignored, so it
        // can never reset a range that a later attempt installed.
        const bool starts = step.attempt() > entry->attempt() && step.chunk() == 0 && step.reset();
        const bool continues = step.attempt() == entry->attempt() &&
                               step.chunk() == entry->next_chunk() &&
                               entry->step() == pb::STEP_INSTALLING;
        if (!starts && !continues) break;
        entry->set_attempt(step.attempt());
        entry->set_next_chunk(step.chunk() + 1);
      } else if (entry->step() >= pb::STEP_INSTALLED && !step.reset()) {
        break;
      }
      if (step.reset()) {
        if (absl::Status s = DeleteRange(*entry, batch); !s.ok()) return s;
      }
      for (const pb::RangeCell& cell : step.cells()) {
        batch->Put(data_, Key(cell.row(), cell.column()), cell.value());
      }
      rocksdb::ReadOptions read;
      for (const pb::RangeSession& incoming : step.sessions()) {
        const std::string key = SessionKey(incoming.session());
        std::string bytes;
        pb::SessionRecord mine;
        rocksdb::Status s = batch->GetFromBatchAndDB(db_.get(), read, sessions_, key, &bytes);
        if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "read session");
        if (s.ok() && mine.ParseFromString(bytes) && mine.seq() >= incoming.record().seq()) {
          continue;  // keep the higher sequence
        }
        batch->Put(sessions_, key, incoming.record().SerializeAsString());
        session_cache_[incoming.session()] = incoming.record();
      }
      entry->set_step(step.last() ? pb::STEP_INSTALLED : pb::STEP_INSTALLING);
      break;
    }
    case pb::MIGRATE_RELEASE:
      if (entry->step() < pb::STEP_RELEASED) entry->set_step(pb::STEP_RELEASED);
      break;
    case pb::MIGRATE_ACTIVATE:
      if (entry->step() == pb::STEP_INSTALLED) entry->set_step(pb::STEP_ACTIVE);
      break;
    case pb::MIGRATE_UNFREEZE:
      if (entry->step() == pb::STEP_NONE || entry->step() == pb::STEP_FROZEN) {
        entry->set_step(pb::STEP_ABORTED);
      }
      break;
    case pb::MIGRATE_DISCARD:
      if (entry->step() == pb::STEP_INSTALLING || entry->step() == pb::STEP_INSTALLED) {
        if (absl::Status s = DeleteRange(*entry, batch); !s.ok()) return s;
      }
      if (entry->step() <= pb::STEP_INSTALLED) {
        entry->set_step(pb::STEP_ABORTED);
      }
      break;
    case pb::MIGRATE_DROP:
      if (entry->step() == pb::STEP_DROPPED) break;
      if (absl::Status s = DeleteRange(*entry, batch); !s.ok()) return s;
      entry->set_step(pb::STEP_DROPPED);
      break;
    default:
      break;
  }
  batch->Put(meta_, kMigrations, migrations_.SerializeAsString());
  return absl::OkStatus();
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
    if (record.has_position() && !InRange(m, record.position())) continue;
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
    uint64_t slot, const std::vector<pb::Command>& commands, const ApplyHooks* hooks) {
  std::vector<ApplyOutcome> outcomes(commands.size());
  // Reads go through the batch so that a command sees the effects of earlier commands of
  // the same slot (including a retry of a request that is also in this slot).
  rocksdb::WriteBatchWithIndex batch;
  WriteApplied(batch.GetWriteBatch(), slot).IgnoreError();
  bool migrated = false;
  bool clock_changed = false;
  rocksdb::ReadOptions read;
  for (size_t i = 0; i < commands.size(); ++i) {
    const pb::Command& command = commands[i];
    ApplyOutcome& outcome = outcomes[i];
    // The table's clock is the highest stamp applied: the same on every replica.
    if (command.stamp_ms() > clock_.now_ms()) {
      clock_.set_now_ms(command.stamp_ms());
      clock_changed = true;
    }
    pb::SessionRecord record;
    bool have_record = false;
    const std::string session_key = SessionKey(command.session());
    if (command.session() != 0) {
      // The cache holds every session this store applied or read since it was opened, so
      // the common case costs no RocksDB lookup.
      if (auto cached = session_cache_.find(command.session()); cached != session_cache_.end()) {
        record = cached->second;
        have_record = true;
      } else {
        std::string record_bytes;
        rocksdb::Status s =
            batch.GetFromBatchAndDB(db_.get(), read, sessions_, session_key, &record_bytes);
        if (s.ok()) {
          have_record = record.ParseFromString(record_bytes);
        } else if (!s.IsNotFound()) {
          return FromRocks(s, "read session");
        }
      }
    }
    if (have_record && command.seq() <= record.seq()) {
      outcome.duplicate = command.seq() == record.seq();
      outcome.stale = command.seq() < record.seq();
      outcome.result = record.result();
      continue;
    }
    if (!have_record && SessionExpired(command)) {
      outcome.expired = true;
      continue;
    }
    if (command.op() == pb::OP_EXPIRE_SESSIONS) {
      if (absl::Status s = ExpireSessions(command.expire(), &batch); !s.ok()) return s;
      clock_changed = true;
      continue;
    }
    if (command.op() == pb::OP_MIGRATE) {
      if (absl::Status s = ApplyMigrate(command.migrate(), &batch); !s.ok()) return s;
      migrated = true;
      continue;
    }
    if (command.op() == pb::OP_SET_MAP) {
      // Maps only move forward; an older or equal one (a retried push) changes nothing.
      const uint64_t version = VersionOf(command.map());
      if (version > map_version_) {
        batch.Put(meta_, kShardMap, command.map());
        shard_map_ = command.map();
        map_version_ = version;
        if (PruneMigrations()) {
          batch.Put(meta_, kMigrations, migrations_.SerializeAsString());
          migrated = true;
        }
        if (hooks != nullptr && hooks->map_applied) hooks->map_applied(shard_map_);
      }
      continue;
    }
    // Ownership is decided after the duplicate check (a retry of a write this group
    // applied gets its recorded result even if the row has moved away since), and the
    // refusal is recorded like any result, so every later copy gets the same answer.
    const bool is_write = command.op() == pb::OP_PUT || command.op() == pb::OP_CPUT ||
                          command.op() == pb::OP_DELETE || command.op() == pb::OP_CDELETE;
    if (is_write && hooks != nullptr && hooks->unavailable) {
      outcome.unavailable = hooks->unavailable(command);
      if (!outcome.unavailable.empty()) continue;
    }
    if (is_write && hooks != nullptr && hooks->wrong_group && hooks->wrong_group(command)) {
      outcome.result.set_wrong_group(true);
      outcome.result.set_map_version(map_version_);
      if (command.session() != 0) {
        record.set_seq(command.seq());
        record.set_position(position_(command.row()));
        record.set_last_ms(clock_.now_ms());
        if (!have_record) ++session_records_;
        *record.mutable_result() = outcome.result;
        batch.Put(sessions_, session_key, record.SerializeAsString());
        session_cache_[command.session()] = record;
      }
      continue;
    }
    const std::string key = Key(command.row(), command.column());
    switch (command.op()) {
      case pb::OP_PUT:
        batch.Put(data_, key, command.value());
        break;
      case pb::OP_DELETE:
        batch.Delete(data_, key);
        break;
      case pb::OP_CPUT: {
        std::string current;
        rocksdb::Status s = batch.GetFromBatchAndDB(db_.get(), read, data_, key, &current);
        if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "read cell");
        const bool matches =
            command.expect_absent() ? s.IsNotFound() : (s.ok() && current == command.expected());
        if (matches) batch.Put(data_, key, command.value());
        outcome.result.set_cput_succeeded(matches);
        break;
      }
      case pb::OP_CDELETE: {
        std::string current;
        rocksdb::Status s = batch.GetFromBatchAndDB(db_.get(), read, data_, key, &current);
        if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "read cell");
        const bool matches = s.ok() && current == command.expected();
        if (matches) batch.Delete(data_, key);
        outcome.result.set_cput_succeeded(matches);
        break;
      }
      default:
        break;  // validated before proposing; doing nothing keeps replicas in step
    }
    if (command.session() != 0) {
      record.set_seq(command.seq());
      record.set_position(position_(command.row()));
      record.set_last_ms(clock_.now_ms());
      if (!have_record) ++session_records_;
      *record.mutable_result() = outcome.result;
      batch.Put(sessions_, session_key, record.SerializeAsString());
      session_cache_[command.session()] = record;
    }
  }
  if (clock_changed) {
    batch.Put(meta_, kSessionClockKey, clock_.SerializeAsString());
  }
  absl::Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), batch.GetWriteBatch()), "apply");
  if (!s.ok()) return s;
  // Only now may FetchRange see a FREEZE: its snapshot must hold every earlier write.
  if (migrated) Publish();
  applied_ = slot;
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
  for (const auto& [family, path] : {std::pair(data_, files->data_sst),
                                     std::pair(sessions_, files->sessions_sst)}) {
    if (!path) continue;
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = family;
    arg.external_files = {*path};
    arg.options.move_files = false;
    ingest.push_back(std::move(arg));
  }
  if (!ingest.empty()) {
    if (absl::Status s = FromRocks(db_->IngestExternalFiles(ingest), "ingest snapshot");
        !s.ok()) {
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
  absl::Status s = FromRocks(db_->Write(synced, &finish), "install snapshot");
  if (s.ok()) applied_ = state.slot();
  LoadShardMap();
  LoadSessions();
  if (s.ok()) {
    std::error_code ignored;
    std::filesystem::remove_all(download_dir, ignored);
  }
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
