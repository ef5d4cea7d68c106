#include "kvs/storage/disk.h"

#include <mutex>
#include <utility>

namespace penncloud::kvs::storage {
namespace {

struct Disk {
  std::shared_ptr<rocksdb::FileSystem> fs = rocksdb::FileSystem::Default();
  std::unique_ptr<rocksdb::Env> env;  // null: Env::Default() (over the default fs)
  std::mutex sink_mu;
  std::function<void(const absl::Status&)> sink;  // GUARDED_BY(sink_mu)
};

Disk& TheDisk() {
  static Disk* disk = new Disk();  // never destroyed: stores may outlive static destructors
  return *disk;
}

}  // namespace

const std::shared_ptr<rocksdb::FileSystem>& DiskFileSystem() { return TheDisk().fs; }

rocksdb::Env* DiskEnv() {
  Disk& disk = TheDisk();
  return disk.env != nullptr ? disk.env.get() : rocksdb::Env::Default();
}

void UseFileSystem(std::shared_ptr<rocksdb::FileSystem> fs) {
  Disk& disk = TheDisk();
  disk.fs = std::move(fs);
  disk.env = rocksdb::NewCompositeEnv(disk.fs);
}

void OnCorruption(std::function<void(const absl::Status&)> sink) {
  Disk& disk = TheDisk();
  std::lock_guard<std::mutex> lock(disk.sink_mu);
  disk.sink = std::move(sink);
}

void ReportCorruption(const absl::Status& status) {
  Disk& disk = TheDisk();
  std::function<void(const absl::Status&)> sink;
  {
    std::lock_guard<std::mutex> lock(disk.sink_mu);
    sink = disk.sink;
  }
  if (sink) sink(status);
}

}  // namespace penncloud::kvs::storage
