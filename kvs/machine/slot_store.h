// What the state machine (state_machine.h) reads and writes while it applies one slot. Reads
// see the writes made earlier in the same slot. The backend decides when the slot becomes
// durable: the replica's RocksDB store (kvs/storage) gathers a slot into one atomic write,
// the simulator's memory store (memory_store.h) applies as it goes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::machine {

class SlotStore {
 public:
  virtual ~SlotStore() = default;

  virtual absl::StatusOr<std::optional<std::string>> GetCell(const std::string& row,
                                                             const std::string& column) = 0;
  virtual void PutCell(const std::string& row, const std::string& column,
                       const std::string& value) = 0;
  virtual void DeleteCell(const std::string& row, const std::string& column) = 0;
  // Deletes every cell whose row lies in the entry's ring range (start, end].
  virtual absl::Status DeleteRange(const pb::MigrationEntry& range) = 0;

  virtual absl::StatusOr<std::optional<pb::SessionRecord>> GetSession(uint64_t session) = 0;
  virtual void PutSession(uint64_t session, const pb::SessionRecord& record) = 0;
  // Deletes the stored records for which `drop` is true; returns how many records are kept.
  virtual absl::StatusOr<uint64_t> DropSessions(
      const std::function<bool(const pb::SessionRecord&)>& drop) = 0;

  // The machine's own state (the applied map, the migration table, the session clock),
  // under the meta keys of state_machine.h.
  virtual void PutMeta(std::string_view key, const std::string& value) = 0;
};

}  // namespace penncloud::kvs::machine
