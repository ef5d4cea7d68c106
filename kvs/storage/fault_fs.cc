#include "kvs/storage/fault_fs.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace penncloud::kvs::storage {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

rocksdb::IOStatus Eio(const std::string& what) {
  return IOStatus::IOError(what, "injected EIO (fault_fs)");
}

// Every write and sync of one file, told to the file system that decides its faults.
class FaultWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path,
                    FaultFileSystem* fs, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(file)), path_(std::move(path)), fs_(fs), size_(size) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    return Write(size_, data, [&] { return target()->Append(data, options, dbg); });
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return Write(size_, data, [&] { return target()->Append(data, options, info, dbg); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    return Write(offset, data,
                 [&] { return target()->PositionedAppend(data, offset, options, dbg); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return Write(offset, data,
                 [&] { return target()->PositionedAppend(data, offset, options, info, dbg); });
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) size_ = size;
    return s;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return fs_->Sync(path_, *target(), options, dbg, /*full=*/false);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return fs_->Sync(path_, *target(), options, dbg, /*full=*/true);
  }
  // A range sync only starts writeback; it promises nothing, so it makes nothing durable.
  IOStatus RangeSync(uint64_t, uint64_t, const IOOptions&, IODebugContext*) override {
    return IOStatus::OK();
  }

 private:
  IOStatus Write(uint64_t offset, const Slice& data, const std::function<IOStatus()>& write) {
    const uint64_t end = std::max(size_, offset + data.size());
    IOStatus s = fs_->Write(path_, end, write);
    if (s.ok()) size_ = end;
    return s;
  }

  const std::string path_;
  FaultFileSystem* const fs_;
  uint64_t size_;
};

class FaultDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory> dir, std::string path, FaultFileSystem* fs)
      : FSDirectoryWrapper(std::move(dir)), path_(std::move(path)), fs_(fs) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (fs_->faults().sync_fails) return Eio("fsync directory " + path_);
    return FSDirectoryWrapper::Fsync(options, dbg);
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    if (fs_->faults().sync_fails) return Eio("fsync directory " + path_);
    return FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
  }

 private:
  const std::string path_;
  FaultFileSystem* const fs_;
};

}  // namespace

FaultFileSystem::FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

void FaultFileSystem::SetFaults(DiskFaults faults) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_ = faults;
}

DiskFaults FaultFileSystem::faults() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_;
}

uint64_t FaultFileSystem::failed_syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_syncs_;
}

IOStatus FaultFileSystem::NewWritableFile(const std::string& path,
                                          const rocksdb::FileOptions& options,
                                          std::unique_ptr<rocksdb::FSWritableFile>* result,
                                          IODebugContext* dbg) {
  if (faults().no_space) return IOStatus::NoSpace("create " + path, "injected ENOSPC (fault_fs)");
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->NewWritableFile(path, options, &file, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path] = Tracked{};
  }
  *result = std::make_unique<FaultWritableFile>(std::move(file), path, this, 0);
  return s;
}

IOStatus FaultFileSystem::ReopenWritableFile(const std::string& path,
                                             const rocksdb::FileOptions& options,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             IODebugContext* dbg) {
  uint64_t size = 0;
  if (!target()->GetFileSize(path, IOOptions(), &size, dbg).ok()) size = 0;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->ReopenWritableFile(path, options, &file, dbg);
  if (!s.ok()) return s;
  {
    // What the file held before this file system saw it counts as durable.
    std::lock_guard<std::mutex> lock(mu_);
    Tracked& t = files_[path];
    t.size = std::max(t.size, size);
    if (!t.ever_synced && t.synced == 0) t = Tracked{size, size, true};
  }
  *result = std::make_unique<FaultWritableFile>(std::move(file), path, this, size);
  return s;
}

IOStatus FaultFileSystem::NewDirectory(const std::string& path, const IOOptions& options,
                                       std::unique_ptr<rocksdb::FSDirectory>* result,
                                       IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(path, options, &dir, dbg);
  if (s.ok()) *result = std::make_unique<FaultDirectory>(std::move(dir), path, this);
  return s;
}

IOStatus FaultFileSystem::DeleteFile(const std::string& path, const IOOptions& options,
                                     IODebugContext* dbg) {
  IOStatus s = target()->DeleteFile(path, options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(path);
  }
  return s;
}

IOStatus FaultFileSystem::RenameFile(const std::string& from, const std::string& to,
                                     const IOOptions& options, IODebugContext* dbg) {
  IOStatus s = target()->RenameFile(from, to, options, dbg);
  if (s.ok()) {
    // The rename itself counts as durable (RocksDB syncs the directory after each one).
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(from);
    if (it == files_.end()) {
      files_.erase(to);
    } else {
      files_[to] = it->second;
      files_.erase(from);
    }
  }
  return s;
}

IOStatus FaultFileSystem::GetFreeSpace(const std::string& path, const IOOptions& options,
                                       uint64_t* free, IODebugContext* dbg) {
  if (faults().no_space) {
    *free = 0;
    return IOStatus::OK();
  }
  return target()->GetFreeSpace(path, options, free, dbg);
}

IOStatus FaultFileSystem::Write(const std::string& path, uint64_t end,
                                const std::function<IOStatus()>& write) {
  // Held across the write, so that a crash (DropUnsyncedData, CrashProcess) never races one.
  std::lock_guard<std::mutex> lock(mu_);
  if (faults_.no_space) return IOStatus::NoSpace("append to " + path, "injected ENOSPC (fault_fs)");
  IOStatus s = write();
  if (s.ok()) {
    Tracked& t = files_[path];
    t.size = std::max(t.size, end);
  }
  return s;
}

IOStatus FaultFileSystem::Sync(const std::string& path, rocksdb::FSWritableFile& file,
                               const IOOptions& options, IODebugContext* dbg, bool full) {
  uint64_t size = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Tracked& t = files_[path];
    if (faults_.sync_fails) {
      ++failed_syncs_;
      // The failed writeback's bytes are gone; the file keeps what earlier syncs made
      // durable. Later writes land past the cut, as a real file's would.
      Truncate(path, t.synced).PermitUncheckedError();
      t.size = t.synced;
      return Eio((full ? "fsync " : "fdatasync ") + path);
    }
    size = t.size;
  }
  IOStatus s = full ? file.Fsync(options, dbg) : file.Sync(options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    Tracked& t = files_[path];
    t.synced = std::max(t.synced, std::min(size, t.size));
    t.ever_synced = true;
  }
  return s;
}

IOStatus FaultFileSystem::Truncate(const std::string& path, uint64_t size) {
  // The wrapped file system may not offer truncation by name (the POSIX one does not).
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    return IOStatus::IOError("truncate " + path, std::strerror(errno));
  }
  return IOStatus::OK();
}

absl::Status FaultFileSystem::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  return DropLocked();
}

void FaultFileSystem::CrashProcess(int code) {
  mu_.lock();  // held until the end: no write lands after the cut
  DropLocked().IgnoreError();
  std::_Exit(code);
}

absl::Status FaultFileSystem::DropLocked() {
  absl::Status result;
  for (auto& [path, t] : files_) {
    IOStatus s =
        t.ever_synced ? Truncate(path, t.synced) : target()->DeleteFile(path, IOOptions(), nullptr);
    if (!s.ok() && !s.IsNotFound() && !s.IsPathNotFound() && result.ok()) {
      result =
          absl::InternalError(absl::StrCat("fault_fs: drop unsynced ", path, ": ", s.ToString()));
    }
    t.size = t.synced;
  }
  std::erase_if(files_, [](const auto& entry) { return !entry.second.ever_synced; });
  return result;
}

}  // namespace penncloud::kvs::storage
