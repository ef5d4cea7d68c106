#include "kvs/storage/rocks_slot.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kvs/storage/range_scan.h"

namespace penncloud::kvs::storage {

absl::StatusOr<std::optional<std::string>> RocksSlot::GetCell(const std::string& row,
                                                              const std::string& column) {
  std::string value;
  rocksdb::Status s =
      batch_->GetFromBatchAndDB(f_.db, rocksdb::ReadOptions(), f_.data, Key(row, column), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read cell");
  return std::optional<std::string>(std::move(value));
}

void RocksSlot::PutCell(const std::string& row, const std::string& column,
                        const std::string& value) {
  writes_->Put(f_.data, Key(row, column), value);
}

void RocksSlot::DeleteCell(const std::string& row, const std::string& column) {
  writes_->Delete(f_.data, Key(row, column));
}

absl::Status RocksSlot::DeleteRange(const pb::MigrationEntry& range) {
  // Point deletes of exactly the range's keys (WriteBatchWithIndex has no range delete, and
  // later commands of the slot must see the deletes), found in the database and in this
  // slot's batch alike: cells an earlier command of the slot wrote into the range (an
  // interrupted attempt's install chunk before a reset) go too.
  std::vector<std::string> keys;
  for (const auto& [lo, hi] : KeyIntervals(range)) {
    std::unique_ptr<rocksdb::Iterator> it(
        batch_->NewIteratorWithBase(f_.data, f_.db->NewIterator(rocksdb::ReadOptions(), f_.data)));
    for (it->Seek(lo); it->Valid(); it->Next()) {
      if (!hi.empty() && it->key().compare(rocksdb::Slice(hi)) >= 0) break;
      keys.push_back(it->key().ToString());
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scan range");
  }
  for (const std::string& key : keys) batch_->Delete(f_.data, key);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<pb::SessionRecord>> RocksSlot::GetSession(uint64_t session) {
  // The cache holds every session this store applied or read since it was opened, so the
  // common case costs no RocksDB lookup.
  if (auto cached = cache_->find(session); cached != cache_->end()) {
    return std::optional<pb::SessionRecord>(cached->second);
  }
  std::string bytes;
  rocksdb::Status s = batch_->GetFromBatchAndDB(f_.db, rocksdb::ReadOptions(), f_.sessions,
                                                SlotKey(session), &bytes);
  if (s.IsNotFound()) return std::optional<pb::SessionRecord>();
  if (!s.ok()) return FromRocks(s, "read session");
  pb::SessionRecord record;
  if (!record.ParseFromString(bytes)) return std::optional<pb::SessionRecord>();
  return std::optional<pb::SessionRecord>(std::move(record));
}

void RocksSlot::PutSession(uint64_t session, const pb::SessionRecord& record) {
  writes_->Put(f_.sessions, SlotKey(session), record.SerializeAsString());
  (*cache_)[session] = record;
}

absl::StatusOr<uint64_t> RocksSlot::DropSessions(
    const std::function<bool(const pb::SessionRecord&)>& drop) {
  // Over the slot's batch and the database together, so records written earlier in this
  // slot are judged and counted too (the count is then exact, as in the memory store).
  uint64_t kept = 0;
  std::vector<std::string> dropped;
  std::unique_ptr<rocksdb::Iterator> it(batch_->NewIteratorWithBase(
      f_.sessions, f_.db->NewIterator(rocksdb::ReadOptions(), f_.sessions)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    pb::SessionRecord record;
    if (!record.ParseFromString(it->value().ToString())) continue;  // never written by us
    if (!drop(record)) {
      ++kept;
      continue;
    }
    dropped.push_back(it->key().ToString());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "sweep sessions");
  it.reset();  // the batch changes below
  for (const std::string& key : dropped) {
    batch_->Delete(f_.sessions, key);
    cache_->erase(DecodeSlotKey(key));
  }
  return kept;
}

void RocksSlot::PutMeta(std::string_view key, const std::string& value) {
  writes_->Put(f_.meta, rocksdb::Slice(key.data(), key.size()), value);
}

}  // namespace penncloud::kvs::storage
