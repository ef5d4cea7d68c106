#include "kvs/storage/disk_files.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kvs/storage/disk.h"

namespace penncloud::kvs::storage {
namespace {

absl::Status Failed(const std::string& what, const rocksdb::IOStatus& s) {
  const std::string message = absl::StrCat("kvs disk: ", what, ": ", s.ToString());
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

std::string Parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status SyncDir(const std::string& dir) {
  rocksdb::FileSystem& fs = *DiskFileSystem();
  std::unique_ptr<rocksdb::FSDirectory> handle;
  rocksdb::IOStatus s = fs.NewDirectory(dir, rocksdb::IOOptions(), &handle, nullptr);
  if (s.ok()) s = handle->Fsync(rocksdb::IOOptions(), nullptr);
  if (s.ok()) s = handle->Close(rocksdb::IOOptions(), nullptr);
  return s.ok() ? absl::OkStatus() : Failed("sync directory " + dir, s);
}

}  // namespace

absl::Status WriteFileSynced(const std::string& path, const std::string& bytes) {
  rocksdb::FileSystem& fs = *DiskFileSystem();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = fs.NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Append(bytes, rocksdb::IOOptions(), nullptr);
  if (s.ok()) s = file->Fsync(rocksdb::IOOptions(), nullptr);
  if (file != nullptr) {
    rocksdb::IOStatus closed = file->Close(rocksdb::IOOptions(), nullptr);
    if (s.ok()) s = closed;
  }
  if (!s.ok()) return Failed("write " + path, s);
  return SyncDir(Parent(path));
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t limit) {
  rocksdb::FileSystem& fs = *DiskFileSystem();
  uint64_t size = 0;
  rocksdb::IOStatus s = fs.GetFileSize(path, rocksdb::IOOptions(), &size, nullptr);
  if (!s.ok()) return Failed("size of " + path, s);
  if (size > limit) {
    return absl::DataLossError(
        absl::StrCat("kvs disk: ", path, " holds ", size, " bytes, more than ", limit));
  }
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  s = fs.NewSequentialFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!s.ok()) return Failed("open " + path, s);
  std::string bytes(size, '\0');
  rocksdb::Slice read;
  s = file->Read(size, rocksdb::IOOptions(), &read, bytes.data(), nullptr);
  if (!s.ok()) return Failed("read " + path, s);
  if (read.size() != size) return absl::DataLossError(absl::StrCat("kvs disk: short read ", path));
  return std::string(read.data(), read.size());
}

bool PathExists(const std::string& path) {
  return DiskFileSystem()->FileExists(path, rocksdb::IOOptions(), nullptr).ok();
}

absl::Status CreateDirs(const std::string& path) {
  rocksdb::FileSystem& fs = *DiskFileSystem();
  if (path.empty() || PathExists(path)) return absl::OkStatus();
  if (path.find('/') != std::string::npos) {
    if (absl::Status s = CreateDirs(Parent(path)); !s.ok()) return s;
  }
  rocksdb::IOStatus s = fs.CreateDirIfMissing(path, rocksdb::IOOptions(), nullptr);
  return s.ok() ? absl::OkStatus() : Failed("mkdir " + path, s);
}

absl::Status RemoveTree(const std::string& path) {
  rocksdb::FileSystem& fs = *DiskFileSystem();
  bool is_dir = false;
  if (!PathExists(path)) return absl::OkStatus();
  rocksdb::IOStatus s = fs.IsDirectory(path, rocksdb::IOOptions(), &is_dir, nullptr);
  if (!s.ok()) return Failed("stat " + path, s);
  if (!is_dir) {
    s = fs.DeleteFile(path, rocksdb::IOOptions(), nullptr);
    return s.ok() ? absl::OkStatus() : Failed("delete " + path, s);
  }
  std::vector<std::string> children;
  s = fs.GetChildren(path, rocksdb::IOOptions(), &children, nullptr);
  if (!s.ok()) return Failed("list " + path, s);
  for (const std::string& child : children) {
    if (child == "." || child == "..") continue;
    if (absl::Status removed = RemoveTree(path + "/" + child); !removed.ok()) return removed;
  }
  s = fs.DeleteDir(path, rocksdb::IOOptions(), nullptr);
  return s.ok() ? absl::OkStatus() : Failed("delete " + path, s);
}

absl::Status RenameSynced(const std::string& from, const std::string& to) {
  rocksdb::IOStatus s = DiskFileSystem()->RenameFile(from, to, rocksdb::IOOptions(), nullptr);
  if (!s.ok()) return Failed("rename " + from + " to " + to, s);
  return SyncDir(Parent(to));
}

}  // namespace penncloud::kvs::storage
