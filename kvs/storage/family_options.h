// The RocksDB options of each column family of a replica store, chosen for space on disk
// (docs/kvs.md "Space on disk").
#pragma once

#include <cstdint>

#include "rocksdb/options.h"

namespace penncloud::kvs::storage {

// Values this long or longer (the drive's chunks, large mail parts) go to blob files.
inline constexpr uint64_t kBlobMinBytes = 64 << 10;
// The write-ahead log is cut once it holds this much: the families whose memtables keep
// its oldest file are flushed, so the log never holds much more than one memtable of the
// state machine and one of the consensus log (every value passes through it twice).
inline constexpr uint64_t kMaxWalBytes = 32 << 20;

rocksdb::ColumnFamilyOptions SmallFamilyOptions();  // default
// meta and sessions: a few keys, each rewritten at every applied slot or command.
rocksdb::ColumnFamilyOptions RewrittenKeysFamilyOptions();
rocksdb::ColumnFamilyOptions LogFamilyOptions();   // the consensus log
rocksdb::ColumnFamilyOptions DataFamilyOptions();  // the cells

}  // namespace penncloud::kvs::storage
