#include "kvs/machine/state_machine.h"

#include <algorithm>

#include "proto/cluster.pb.h"

namespace penncloud::kvs::machine {
namespace {

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

bool IsWrite(pb::Op op) {
  return op == pb::OP_PUT || op == pb::OP_CPUT || op == pb::OP_DELETE || op == pb::OP_CDELETE;
}

}  // namespace

void StateMachine::Load(const std::optional<std::string>& map,
                        const std::optional<std::string>& migrations,
                        const std::optional<std::string>& clock, uint64_t session_records) {
  shard_map_ = map.value_or("");
  map_version_ = VersionOf(shard_map_);
  migrations_.Clear();
  if (migrations) migrations_.ParseFromString(*migrations);
  finished_below_ = FinishedBelow(shard_map_);
  clock_.Clear();
  if (clock) clock_.ParseFromString(*clock);
  session_records_ = session_records;
}

bool StateMachine::PruneMigrations() {
  finished_below_ = FinishedBelow(shard_map_);
  const int before = migrations_.entries_size();
  auto* entries = migrations_.mutable_entries();
  entries->erase(
      std::remove_if(entries->begin(), entries->end(),
                     [&](const pb::MigrationEntry& e) { return e.id() < finished_below_; }),
      entries->end());
  return migrations_.entries_size() != before;
}

bool StateMachine::SessionExpired(const pb::Command& command) const {
  // A write of a session without a record is a new session's first, or a session dropped
  // by a sweep writing again after a long pause, or a late retry of a write applied before
  // its session was dropped. Only the last must not run: it was stamped within a client's
  // retry deadline of the original, whose session was idle since before the horizon, so
  // its stamp is below horizon + retry window. Unstamped writes (older leaders) predate
  // every sweep's window and are judged as before.
  return command.session() != 0 && command.stamp_ms() > 0 && clock_.horizon_ms() > 0 &&
         command.stamp_ms() < clock_.horizon_ms() + clock_.retry_window_ms();
}

absl::Status StateMachine::ExpireSessions(const pb::SessionExpiry& expiry, SlotStore& store) {
  clock_.set_swept_ms(clock_.now_ms());
  // The horizon only moves forward (a late or repeated sweep changes nothing).
  if (expiry.horizon_ms() <= clock_.horizon_ms()) return absl::OkStatus();
  clock_.set_horizon_ms(expiry.horizon_ms());
  clock_.set_retry_window_ms(expiry.retry_window_ms());
  absl::StatusOr<uint64_t> kept = store.DropSessions(
      [&](const pb::SessionRecord& record) { return record.last_ms() < expiry.horizon_ms(); });
  if (!kept.ok()) return kept.status();
  session_records_ = *kept;
  return absl::OkStatus();
}

void StateMachine::Record(const pb::Command& command, const pb::CommandResult& result,
                          bool had_record, SlotStore& store) {
  if (command.session() == 0) return;
  pb::SessionRecord record;
  record.set_seq(command.seq());
  record.set_position(position_(command.row()));
  record.set_last_ms(clock_.now_ms());
  *record.mutable_result() = result;
  if (!had_record) ++session_records_;
  store.PutSession(command.session(), record);
}

absl::StatusOr<std::vector<ApplyOutcome>> StateMachine::ApplySlot(
    const std::vector<pb::Command>& commands, SlotStore& store, const ApplyHooks* hooks,
    bool* migrated) {
  std::vector<ApplyOutcome> outcomes(commands.size());
  *migrated = false;
  bool clock_changed = false;
  for (size_t i = 0; i < commands.size(); ++i) {
    const pb::Command& command = commands[i];
    ApplyOutcome& outcome = outcomes[i];
    // The table's clock is the highest stamp applied: the same on every replica.
    if (command.stamp_ms() > clock_.now_ms()) {
      clock_.set_now_ms(command.stamp_ms());
      clock_changed = true;
    }
    std::optional<pb::SessionRecord> record;
    if (command.session() != 0) {
      absl::StatusOr<std::optional<pb::SessionRecord>> read = store.GetSession(command.session());
      if (!read.ok()) return read.status();
      record = std::move(*read);
    }
    if (record && command.seq() <= record->seq()) {
      outcome.duplicate = command.seq() == record->seq();
      outcome.stale = command.seq() < record->seq();
      outcome.result = record->result();
      continue;
    }
    if (!record && SessionExpired(command)) {
      outcome.expired = true;
      continue;
    }
    if (command.op() == pb::OP_EXPIRE_SESSIONS) {
      if (absl::Status s = ExpireSessions(command.expire(), store); !s.ok()) return s;
      clock_changed = true;
      continue;
    }
    if (command.op() == pb::OP_MIGRATE) {
      if (absl::Status s = ApplyMigrate(command.migrate(), store); !s.ok()) return s;
      *migrated = true;
      continue;
    }
    if (command.op() == pb::OP_SET_MAP) {
      // Maps only move forward; an older or equal one (a retried push) changes nothing.
      const uint64_t version = VersionOf(command.map());
      if (version > map_version_) {
        store.PutMeta(kShardMapKey, command.map());
        shard_map_ = command.map();
        map_version_ = version;
        if (PruneMigrations()) {
          store.PutMeta(kMigrationsKey, migrations_.SerializeAsString());
          *migrated = true;
        }
        if (hooks != nullptr && hooks->map_applied) hooks->map_applied(shard_map_);
      }
      continue;
    }
    // Ownership is decided after the duplicate check (a retry of a write this group
    // applied gets its recorded result even if the row has moved away since), and the
    // refusal is recorded like any result, so every later copy gets the same answer.
    const bool is_write = IsWrite(command.op());
    if (is_write && hooks != nullptr && hooks->unavailable) {
      outcome.unavailable = hooks->unavailable(command);
      if (!outcome.unavailable.empty()) continue;
    }
    if (is_write && hooks != nullptr && hooks->wrong_group && hooks->wrong_group(command)) {
      outcome.result.set_wrong_group(true);
      outcome.result.set_map_version(map_version_);
      Record(command, outcome.result, record.has_value(), store);
      continue;
    }
    switch (command.op()) {
      case pb::OP_PUT:
        store.PutCell(command.row(), command.column(), command.value());
        break;
      case pb::OP_DELETE:
        store.DeleteCell(command.row(), command.column());
        break;
      case pb::OP_CPUT: {
        absl::StatusOr<std::optional<std::string>> current =
            store.GetCell(command.row(), command.column());
        if (!current.ok()) return current.status();
        const bool matches = command.expect_absent()
                                 ? !current->has_value()
                                 : (current->has_value() && **current == command.expected());
        if (matches) store.PutCell(command.row(), command.column(), command.value());
        outcome.result.set_cput_succeeded(matches);
        break;
      }
      case pb::OP_CDELETE: {
        absl::StatusOr<std::optional<std::string>> current =
            store.GetCell(command.row(), command.column());
        if (!current.ok()) return current.status();
        const bool matches = current->has_value() && **current == command.expected();
        if (matches) store.DeleteCell(command.row(), command.column());
        outcome.result.set_cput_succeeded(matches);
        break;
      }
      default:
        break;  // validated before proposing; doing nothing keeps replicas in step
    }
    Record(command, outcome.result, record.has_value(), store);
  }
  if (clock_changed) store.PutMeta(kSessionClockKey, clock_.SerializeAsString());
  return outcomes;
}

absl::Status StateMachine::ApplyMigrate(const pb::MigrateStep& step, SlotStore& store) {
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
        if (absl::Status s = store.DeleteRange(*entry); !s.ok()) return s;
      }
      for (const pb::RangeCell& cell : step.cells()) {
        store.PutCell(cell.row(), cell.column(), cell.value());
      }
      for (const pb::RangeSession& incoming : step.sessions()) {
        absl::StatusOr<std::optional<pb::SessionRecord>> mine =
            store.GetSession(incoming.session());
        if (!mine.ok()) return mine.status();
        if (mine->has_value() && (*mine)->seq() >= incoming.record().seq()) {
          continue;  // keep the higher sequence
        }
        if (!mine->has_value()) ++session_records_;
        store.PutSession(incoming.session(), incoming.record());
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
        if (absl::Status s = store.DeleteRange(*entry); !s.ok()) return s;
      }
      if (entry->step() <= pb::STEP_INSTALLED) {
        entry->set_step(pb::STEP_ABORTED);
      }
      break;
    case pb::MIGRATE_DROP:
      if (entry->step() == pb::STEP_DROPPED) break;
      if (absl::Status s = store.DeleteRange(*entry); !s.ok()) return s;
      entry->set_step(pb::STEP_DROPPED);
      break;
    default:
      break;
  }
  store.PutMeta(kMigrationsKey, migrations_.SerializeAsString());
  return absl::OkStatus();
}

}  // namespace penncloud::kvs::machine
