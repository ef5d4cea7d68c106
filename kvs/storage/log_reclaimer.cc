#include "kvs/storage/log_reclaimer.h"

#include "kvs/storage/cell_key.h"
#include "kvs/storage/range_scan.h"

namespace penncloud::kvs::storage {

LogReclaimer::LogReclaimer(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log)
    : db_(db), log_(log), thread_([this] { Run(); }) {}

LogReclaimer::~LogReclaimer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  db_->DisableManualCompaction();  // a compaction under way returns at once
  thread_.join();
  db_->EnableManualCompaction();
}

void LogReclaimer::Reclaim(uint64_t slot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (slot <= wanted_) return;
    wanted_ = slot;
  }
  cv_.notify_all();
}

void LogReclaimer::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stop_ || (!busy_ && done_ >= wanted_); });
}

void LogReclaimer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || wanted_ > done_; });
    if (stop_) return;
    const uint64_t slot = wanted_;
    busy_ = true;
    lock.unlock();
    // Up to the first slot still kept: the range deletion's own end. The compaction also
    // flushes the memtable that holds the deletion, so the whole of it takes effect.
    const std::string end = SlotKey(slot + 1);
    const rocksdb::Slice end_slice(end);
    rocksdb::CompactRangeOptions options;
    options.exclusive_manual_compaction = false;  // automatic compactions go on meanwhile
    const rocksdb::Status s = db_->CompactRange(options, log_, nullptr, &end_slice);
    // Corruption goes to the sink; anything else (an abort at shutdown) only leaves the
    // bytes for the next request or RocksDB's own compactions.
    if (!s.ok()) FromRocks(s, "reclaim log").IgnoreError();
    lock.lock();
    busy_ = false;
    done_ = slot;
    cv_.notify_all();
  }
}

}  // namespace penncloud::kvs::storage
