// Gives the disk space of compacted log entries back (docs/kvs.md "Space on disk").
//
// ReplicaStore::CompactLog removes the entries up to a slot with one range deletion, which
// only hides them: their bytes stay in the log family's SST files until a RocksDB
// compaction reads those files, and nothing asks for one while the log is short. Every
// entry holds a whole batch of client values, so the hidden bytes were about as many as
// the state machine's (a 64 MiB group kept 67 MB of deleted log per replica). The
// reclaimer compacts the log family up to the newest compacted slot on a thread of its
// own, so the loop that calls CompactLog never waits for the disk; requests that arrive
// while one runs are merged into the next.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "rocksdb/db.h"

namespace penncloud::kvs::storage {

class LogReclaimer {
 public:
  // `db` and `log` must outlive the reclaimer.
  LogReclaimer(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log);
  // Stops a compaction under way (RocksDB aborts it; the deleted entries stay hidden).
  ~LogReclaimer();

  // The log holds nothing at or below `slot` any more.
  void Reclaim(uint64_t slot);
  // Tests: waits until every slot asked for so far has been reclaimed (or failed).
  void WaitIdle();

 private:
  void Run();

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* log_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wanted_ = 0;  // GUARDED_BY(mu_)
  uint64_t done_ = 0;    // GUARDED_BY(mu_)
  bool busy_ = false;    // GUARDED_BY(mu_)
  bool stop_ = false;    // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace penncloud::kvs::storage
