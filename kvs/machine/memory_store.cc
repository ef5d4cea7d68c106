#include "kvs/machine/memory_store.h"

namespace penncloud::kvs::machine {

absl::StatusOr<std::optional<std::string>> MemoryStore::GetCell(const std::string& row,
                                                                const std::string& column) {
  auto it = cells_.find({row, column});
  if (it == cells_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

void MemoryStore::PutCell(const std::string& row, const std::string& column,
                          const std::string& value) {
  cells_[{row, column}] = value;
}

void MemoryStore::DeleteCell(const std::string& row, const std::string& column) {
  cells_.erase({row, column});
}

absl::Status MemoryStore::DeleteRange(const pb::MigrationEntry& range) {
  for (auto it = cells_.begin(); it != cells_.end();) {
    it = InRange(range, position_(it->first.first)) ? cells_.erase(it) : std::next(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<pb::SessionRecord>> MemoryStore::GetSession(uint64_t session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return std::optional<pb::SessionRecord>();
  return std::optional<pb::SessionRecord>(it->second);
}

void MemoryStore::PutSession(uint64_t session, const pb::SessionRecord& record) {
  sessions_[session] = record;
}

absl::StatusOr<uint64_t> MemoryStore::DropSessions(
    const std::function<bool(const pb::SessionRecord&)>& drop) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = drop(it->second) ? sessions_.erase(it) : std::next(it);
  }
  return sessions_.size();
}

void MemoryStore::PutMeta(std::string_view key, const std::string& value) {
  meta_[std::string(key)] = value;
}

std::optional<std::string> MemoryStore::Meta(std::string_view key) const {
  auto it = meta_.find(key);
  if (it == meta_.end()) return std::nullopt;
  return it->second;
}

}  // namespace penncloud::kvs::machine
