// One slot of the state machine (kvs/machine) on the replica's RocksDB store: reads go
// through the slot's write batch (a command sees the earlier commands of its slot), writes
// gather in it, and ReplicaStore::ApplySlot writes the batch at once, with the applied slot.
#pragma once

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "kvs/machine/slot_store.h"
#include "kvs/storage/cell_key.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/write_batch_with_index.h"

namespace penncloud::kvs::storage {

struct RocksFamilies {
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* data = nullptr;
  rocksdb::ColumnFamilyHandle* sessions = nullptr;
};

// The at-most-once table as far as it was touched since the store was opened (apply thread
// only). A failed apply is fatal for the replica, so the cache never runs ahead of the disk.
using SessionCache = absl::flat_hash_map<uint64_t, pb::SessionRecord>;

class RocksSlot : public machine::SlotStore {
 public:
  // With `index_writes` false the writes go into the batch unindexed: only for a slot that
  // reads back none of its own cells (its session records come from the cache).
  RocksSlot(RocksFamilies families, RowPosition position, SessionCache* cache,
            rocksdb::WriteBatchWithIndex* batch, bool index_writes)
      : f_(families),
        position_(position),
        cache_(cache),
        batch_(batch),
        writes_(index_writes ? static_cast<rocksdb::WriteBatchBase*>(batch)
                             : batch->GetWriteBatch()) {}

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

 private:
  std::string Key(const std::string& row, const std::string& column) const {
    return CellKey(position_(row), row, column);
  }

  RocksFamilies f_;
  RowPosition position_;
  SessionCache* cache_;
  rocksdb::WriteBatchWithIndex* batch_;
  rocksdb::WriteBatchBase* writes_;  // batch_ itself, or its unindexed write batch
};

}  // namespace penncloud::kvs::storage
