#include "kvs/storage/range_scan.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kvs/storage/cell_key.h"
#include "kvs/storage/disk.h"

namespace penncloud::kvs::storage {

std::vector<std::pair<std::string, std::string>> KeyIntervals(const pb::MigrationEntry& m) {
  const uint64_t start = m.start();
  const uint64_t end = m.end();
  auto above = [](uint64_t p) { return p == UINT64_MAX ? std::string() : SlotKey(p + 1); };
  if (start < end) return {{SlotKey(start + 1), above(end)}};
  // Wrapping (or the whole ring when start == end): (start, 2^64-1] and [0, end].
  std::vector<std::pair<std::string, std::string>> out;
  if (start != UINT64_MAX) out.emplace_back(SlotKey(start + 1), std::string());
  out.emplace_back(std::string(), above(end));
  return out;
}

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat("kvs store: ", what, ": ", s.ToString());
  if (s.IsCorruption()) {
    absl::Status lost = absl::DataLossError(message);
    ReportCorruption(lost);
    return lost;
  }
  if (s.IsNoSpace())
    return absl::ResourceExhaustedError(absl::StrCat(message, " (out of disk space)"));
  return absl::InternalError(message);
}

absl::Status ForEachInRange(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                            rocksdb::ReadOptions read, const pb::MigrationEntry& m,
                            const std::function<bool(rocksdb::Iterator*)>& fn) {
  for (const auto& [lo, hi] : KeyIntervals(m)) {
    rocksdb::Slice upper(hi);
    read.iterate_upper_bound = hi.empty() ? nullptr : &upper;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, family));
    for (it->Seek(lo); it->Valid(); it->Next()) {
      if (!fn(it.get())) return absl::OkStatus();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scan range");
  }
  return absl::OkStatus();
}

}  // namespace penncloud::kvs::storage
