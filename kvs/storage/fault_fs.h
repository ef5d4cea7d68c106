// A file system for tests that fails the way disks fail (docs/kvs.md "Disk faults"): a
// sync that returns EIO, writes that find no space (ENOSPC), and a crash that loses
// everything not yet synced. It wraps the real file system and keeps, for each file
// written through it, how many of its bytes a sync made durable.
//
// Test only: kvs_server installs it (disk.h UseFileSystem) only with --fault_fs_control,
// which scripts/start.sh never passes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "rocksdb/file_system.h"

namespace penncloud::kvs::storage {

struct DiskFaults {
  // Every file and directory sync fails with EIO, and the file loses what it had not synced
  // (a failed writeback leaves the kernel's copy marked clean: the bytes may never land).
  bool sync_fails = false;
  // Appends and new files fail with ENOSPC, and the free space reads as 0.
  bool no_space = false;
};

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base);
  static const char* kClassName() { return "PennCloudFaultFileSystem"; }
  const char* Name() const override { return kClassName(); }

  void SetFaults(DiskFaults faults);
  DiskFaults faults() const;
  uint64_t failed_syncs() const;

  // A power cut: every file written through this file system since it was created keeps
  // only what was synced; one never synced disappears. Open stores must be closed (or the
  // process must end) right after: their files no longer match their memory.
  absl::Status DropUnsyncedData();
  // The same, then the process ends at once with `code`, as if the power went out.
  [[noreturn]] void CrashProcess(int code);

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& path, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& path, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& options,
                                 uint64_t* free, rocksdb::IODebugContext* dbg) override;

  // The writable files' side (fault_fs.cc).
  // Runs `write` (which leaves the file `end` bytes long) unless there is no space.
  rocksdb::IOStatus Write(const std::string& path, uint64_t end,
                          const std::function<rocksdb::IOStatus()>& write);
  rocksdb::IOStatus Sync(const std::string& path, rocksdb::FSWritableFile& file,
                         const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg,
                         bool full);

 private:
  struct Tracked {
    uint64_t size = 0;    // bytes written so far
    uint64_t synced = 0;  // bytes a sync made durable
    bool ever_synced = false;
  };
  rocksdb::IOStatus Truncate(const std::string& path, uint64_t size);
  absl::Status DropLocked();  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  DiskFaults faults_;                     // GUARDED_BY(mu_)
  uint64_t failed_syncs_ = 0;             // GUARDED_BY(mu_)
  std::map<std::string, Tracked> files_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs::storage
