// The file system under every replica store of this process, and where the corruption a
// store finds is reported (docs/kvs.md "Disk faults").
//
// Every byte a replica keeps goes through this one rocksdb::FileSystem: the RocksDB
// database, snapshot downloads (disk_files.h) and the repair of a damaged store. It is the
// machine's own file system unless a test installs another (FaultFileSystem, fault_fs.h)
// before the first store opens.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace penncloud::kvs::storage {

const std::shared_ptr<rocksdb::FileSystem>& DiskFileSystem();
// An Env over DiskFileSystem(), for the RocksDB calls that take one.
rocksdb::Env* DiskEnv();

// Tests only (kvs_server --fault_fs_control, unit tests): replaces the file system. Call
// before any store opens and never while one is open.
void UseFileSystem(std::shared_ptr<rocksdb::FileSystem> fs);

// `sink` hears of every corruption a store finds: a checksum mismatch on a read, at open
// or in a background compaction. kvs_server marks the store for repair and stops.
void OnCorruption(std::function<void(const absl::Status&)> sink);
void ReportCorruption(const absl::Status& status);

}  // namespace penncloud::kvs::storage
