// The at-most-once table's expiry (docs/kvs.md "The at-most-once table").
//
// Time comes only from the log: the leader stamps each client write with its clock when it
// first proposes it, the table's clock is the highest stamp applied, and the leader's
// periodic OP_EXPIRE_SESSIONS names the horizon. Every replica therefore drops exactly the
// same records at exactly the same slot, whatever its own clock says.
#include "absl/strings/str_cat.h"
#include "kvs/storage/cell_key.h"
#include "kvs/storage/replica_store.h"

namespace penncloud::kvs::storage {

void ReplicaStore::LoadSessions() {
  clock_.Clear();
  if (auto bytes = Meta(kSessionClockKey)) clock_.ParseFromString(*bytes);
  uint64_t records = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), sessions_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++records;
  session_records_ = records;
}

bool ReplicaStore::SessionExpired(const pb::Command& command) const {
  // A write of a session without a record is a new session's first, or a session dropped
  // by a sweep writing again after a long pause, or a late retry of a write applied before
  // its session was dropped. Only the last must not run: it was stamped within a client's
  // retry deadline of the original, whose session was idle since before the horizon, so
  // its stamp is below horizon + retry window. Unstamped writes (older leaders) predate
  // every sweep's window and are judged as before.
  return command.session() != 0 && command.stamp_ms() > 0 && clock_.horizon_ms() > 0 &&
         command.stamp_ms() < clock_.horizon_ms() + clock_.retry_window_ms();
}

absl::Status ReplicaStore::ExpireSessions(const pb::SessionExpiry& expiry,
                                          rocksdb::WriteBatchWithIndex* batch) {
  clock_.set_swept_ms(clock_.now_ms());
  // The horizon only moves forward (a late or repeated sweep changes nothing).
  if (expiry.horizon_ms() <= clock_.horizon_ms()) return absl::OkStatus();
  clock_.set_horizon_ms(expiry.horizon_ms());
  clock_.set_retry_window_ms(expiry.retry_window_ms());
  uint64_t kept = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), sessions_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const uint64_t session = DecodeSlotKey(it->key().ToStringView());
    // The cache holds the newest record of every session this slot already wrote.
    pb::SessionRecord record;
    auto cached = session_cache_.find(session);
    if (cached != session_cache_.end()) {
      record = cached->second;
    } else if (!record.ParseFromString(it->value().ToString())) {
      continue;  // never written by this store; left alone
    }
    if (record.last_ms() >= expiry.horizon_ms()) {
      ++kept;
      continue;
    }
    batch->Delete(sessions_, it->key());
    if (cached != session_cache_.end()) session_cache_.erase(cached);
  }
  if (!it->status().ok()) {
    return absl::InternalError(
        absl::StrCat("kvs store: sweep sessions: ", it->status().ToString()));
  }
  session_records_ = kept;
  return absl::OkStatus();
}

}  // namespace penncloud::kvs::storage
