// Reading the store's RocksDB families by ring range, and RocksDB errors as absl ones.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "proto/kvs.pb.h"
#include "rocksdb/db.h"

namespace penncloud::kvs::storage {

// Corruption is DATA_LOSS (and reported to disk.h's sink), no space RESOURCE_EXHAUSTED, any
// other failure INTERNAL.
absl::Status FromRocks(const rocksdb::Status& s, const std::string& what);

// The cell keys of the entry's ring range (start, end] as at most two key intervals
// [lo, hi) ("" hi: to the end of the family). Positions lead every cell key (cell_key.h).
std::vector<std::pair<std::string, std::string>> KeyIntervals(const pb::MigrationEntry& m);

// Calls fn(iterator) for every cell key of the entry's ring range (start, end], in key
// order, from one read view, until fn returns false. Positions lead every cell key
// (cell_key.h), so the range is at most two contiguous key intervals.
absl::Status ForEachInRange(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                            rocksdb::ReadOptions read, const pb::MigrationEntry& m,
                            const std::function<bool(rocksdb::Iterator*)>& fn);

}  // namespace penncloud::kvs::storage
