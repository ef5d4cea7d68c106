// The replicated state machine of a KVS group: every rule by which a committed slot changes
// the group's state, in one place, over a small store interface (slot_store.h). The replica
// server runs it on RocksDB (kvs/storage/replica_store.h), the simulator on memory
// (memory_store.h): the code the simulator checks is the code that serves users.
//
// The rules (docs/kvs.md, docs/sharding.md sections 5-6):
//   - at most once: a command of a session applies once per sequence number; a repeat gets
//     the recorded result, an older one is stale;
//   - session expiry: OP_EXPIRE_SESSIONS drops records idle since before its horizon, and
//     a write of an unknown session stamped within the retry window is refused as expired;
//   - PUT, DELETE, CPUT, CDELETE on cells;
//   - ownership: a write the group does not serve is refused (and the refusal recorded);
//     one for a frozen or arriving range waits (not recorded);
//   - OP_SET_MAP installs a newer cluster map (never an older one);
//   - OP_MIGRATE moves a migration of the group's table forward, never backwards.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/machine/slot_store.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::machine {

// Meta keys of the machine's own state.
inline constexpr char kShardMapKey[] = "shard_map";
inline constexpr char kMigrationsKey[] = "shard_migrations";
inline constexpr char kSessionClockKey[] = "session_clock";

// Where a row sits on the hash ring (shard::RingPosition in the server).
using RowPosition = uint64_t (*)(std::string_view row);

struct ApplyOutcome {
  pb::CommandResult result;
  bool duplicate = false;  // the session had applied this sequence already
  bool stale = false;      // an older sequence than the session's last: result unknown
  // Not applied, not recorded: the client should retry (e.g. its range is frozen).
  std::string unavailable;
  // Not applied, not recorded: the session is unknown and the write may be a late retry of
  // one applied before the session expired, so its outcome is unknown to the client.
  bool expired = false;
};

// What the replica decides while a slot is applied (docs/sharding.md section 5); the
// server builds them from machine::Judge (ownership.h).
struct ApplyHooks {
  // True if the group does not serve the command's row: the write is refused, not applied,
  // and the refusal recorded for its (session, seq). Asked only of non-duplicate writes.
  std::function<bool(const pb::Command&)> wrong_group;
  // Called when an OP_SET_MAP installs a newer map, before the slot's later commands.
  std::function<void(const std::string& map_bytes)> map_applied;
  // Non-empty: the write must wait (its range is frozen or still arriving); it is neither
  // applied nor recorded. Asked before wrong_group, only of non-duplicate writes.
  std::function<std::string(const pb::Command&)> unavailable;
};

class StateMachine {
 public:
  explicit StateMachine(RowPosition position) : position_(position) {}

  // Resets the in-memory part of the state to what the store holds (at open and after a
  // snapshot install): the meta values (nullopt: absent) and the number of session records.
  void Load(const std::optional<std::string>& map, const std::optional<std::string>& migrations,
            const std::optional<std::string>& clock, uint64_t session_records);

  // Applies the commands of one slot, in order. `*migrated` tells whether the migration
  // table changed. An error leaves `store`'s slot half written: the caller must not commit
  // it (the replica stops).
  absl::StatusOr<std::vector<ApplyOutcome>> ApplySlot(const std::vector<pb::Command>& commands,
                                                      SlotStore& store, const ApplyHooks* hooks,
                                                      bool* migrated);

  // The serialized cluster map last applied ("" = none) and its version (0 = none).
  const std::string& ShardMap() const { return shard_map_; }
  uint64_t MapVersion() const { return map_version_; }
  const pb::MigrationTable& Migrations() const { return migrations_; }
  const pb::SessionClock& SessionClockNow() const { return clock_; }
  // Records in the at-most-once table: exact after each expiry sweep, plus the sessions
  // opened since.
  uint64_t SessionRecords() const { return session_records_; }
  RowPosition position() const { return position_; }

 private:
  absl::Status ApplyMigrate(const pb::MigrateStep& step, SlotStore& store);
  absl::Status ExpireSessions(const pb::SessionExpiry& expiry, SlotStore& store);
  // A write of a session without a record that may be a retry from before the sweep.
  bool SessionExpired(const pb::Command& command) const;
  // Drops the table entries of migrations the applied map says are over; true if any.
  bool PruneMigrations();
  void Record(const pb::Command& command, const pb::CommandResult& result, bool had_record,
              SlotStore& store);

  RowPosition position_;
  pb::SessionClock clock_;
  uint64_t session_records_ = 0;
  std::string shard_map_;
  uint64_t map_version_ = 0;
  pb::MigrationTable migrations_;
  uint64_t finished_below_ = 0;  // migrations with lower ids are over (FinishedBelow)
};

}  // namespace penncloud::kvs::machine
