// The state machine's store in memory (slot_store.h), for the simulator and for tests: the
// same rules as the replica's RocksDB store, without a disk. Writes apply as they are made
// (a failed apply ends a simulated replica, so there is no half-applied slot to undo).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "kvs/machine/ownership.h"
#include "kvs/machine/slot_store.h"
#include "kvs/machine/state_machine.h"

namespace penncloud::kvs::machine {

class MemoryStore : public SlotStore {
 public:
  explicit MemoryStore(RowPosition position) : position_(position) {}

  absl::StatusOr<std::optional<std::string>> GetCell(const std::string& row,
                                                     const std::string& column) override;
  void PutCell(const std::string& row, const std::string& column,
               const std::string& value) override;
  void DeleteCell(const std::string& row, const std::string& column) override;
  absl::Status DeleteRange(const pb::MigrationEntry& range) override;
  absl::StatusOr<std::optional<pb::SessionRecord>> GetSession(uint64_t session) override;
  void PutSession(uint64_t session, const pb::SessionRecord& record) override;
  absl::StatusOr<uint64_t> DropSessions(
      const std::function<bool(const pb::SessionRecord&)>& drop) override;
  void PutMeta(std::string_view key, const std::string& value) override;

  using Cells = std::map<std::pair<std::string, std::string>, std::string>;
  const Cells& cells() const { return cells_; }
  const std::map<uint64_t, pb::SessionRecord>& sessions() const { return sessions_; }
  const std::map<std::string, std::string, std::less<>>& meta() const { return meta_; }
  std::optional<std::string> Meta(std::string_view key) const;

 private:
  RowPosition position_;
  Cells cells_;  // (row, column) -> value
  std::map<uint64_t, pb::SessionRecord> sessions_;
  std::map<std::string, std::string, std::less<>> meta_;
};

}  // namespace penncloud::kvs::machine
