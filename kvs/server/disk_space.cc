#include "kvs/server/disk_space.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "kvs/storage/disk.h"

namespace penncloud::kvs::server {

DiskSpace::DiskSpace(std::string dir, uint64_t reserve_bytes, std::chrono::milliseconds refresh)
    : dir_(std::move(dir)), reserve_(reserve_bytes), refresh_(refresh) {}

absl::Status DiskSpace::CheckWritable() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (checked_ != std::chrono::steady_clock::time_point() && now - checked_ < refresh_) {
    return verdict_;
  }
  checked_ = now;
  uint64_t free = 0;
  rocksdb::IOStatus s =
      storage::DiskFileSystem()->GetFreeSpace(dir_, rocksdb::IOOptions(), &free, nullptr);
  if (!s.ok() || free >= reserve_) {
    verdict_ = absl::OkStatus();
  } else {
    verdict_ = absl::ResourceExhaustedError(
        absl::StrCat("kvs: out of disk space on ", dir_, ": ", free >> 20, " MiB free, ",
                     reserve_ >> 20, " MiB kept in reserve; writes resume when space returns"));
  }
  return verdict_;
}

}  // namespace penncloud::kvs::server
