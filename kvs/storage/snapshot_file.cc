#include "kvs/storage/snapshot_file.h"

#include "absl/strings/str_cat.h"
#include "kvs/storage/disk.h"
#include "kvs/storage/disk_files.h"
#include "rocksdb/options.h"

namespace penncloud::kvs::storage {
namespace {

constexpr const char* kSstNames[2] = {"data.sst", "sessions.sst"};
constexpr char kStateName[] = "state.pb";
// The state file holds the state machine's meta keys (the cluster map is the largest).
constexpr size_t kMaxStateBytes = 64 << 20;

absl::Status Failed(const std::string& what, const rocksdb::Status& s) {
  return absl::InternalError(absl::StrCat("kvs snapshot download: ", what, ": ", s.ToString()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SnapshotDownload>> SnapshotDownload::Create(const std::string& dir) {
  if (absl::Status s = RemoveTree(dir); !s.ok()) return s;
  if (absl::Status s = CreateDirs(dir); !s.ok()) return s;
  return std::unique_ptr<SnapshotDownload>(new SnapshotDownload(dir));
}

SnapshotDownload::~SnapshotDownload() = default;

absl::Status SnapshotDownload::Put(uint32_t family, const std::string& key,
                                   const std::string& value) {
  std::unique_ptr<rocksdb::SstFileWriter>& writer = writers_[family];
  if (writer == nullptr) {
    rocksdb::Options options;
    options.env = DiskEnv();
    writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options);
    const std::string path = absl::StrCat(dir_, "/", kSstNames[family]);
    if (rocksdb::Status s = writer->Open(path); !s.ok()) return Failed("open " + path, s);
  }
  // Keys out of order (a sender that does not dump in key order) are refused here.
  if (rocksdb::Status s = writer->Put(key, value); !s.ok()) return Failed("add a key", s);
  return absl::OkStatus();
}

absl::Status SnapshotDownload::Add(const pb::SnapshotChunk& chunk) {
  if (chunk.keys_size() != chunk.values_size() || chunk.keys_size() != chunk.families_size()) {
    return absl::InvalidArgumentError("kvs store: malformed snapshot chunk");
  }
  if (first_) {
    state_.set_slot(chunk.slot());
    first_ = false;
  }
  for (int i = 0; i < chunk.keys_size(); ++i) {
    const uint32_t family = chunk.families(i);
    if (family == 2) {
      state_.add_keys(chunk.keys(i));
      state_.add_values(chunk.values(i));
      state_.add_families(2);
      continue;
    }
    if (family > 2) return absl::InvalidArgumentError("kvs store: unknown snapshot family");
    if (absl::Status s = Put(family, chunk.keys(i), chunk.values(i)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status SnapshotDownload::Finish() {
  for (auto& writer : writers_) {
    if (writer == nullptr) continue;
    if (rocksdb::Status s = writer->Finish(); !s.ok()) return Failed("finish", s);
  }
  return WriteFileSynced(absl::StrCat(dir_, "/", kStateName), state_.SerializeAsString());
}

absl::StatusOr<SnapshotFiles> ReadSnapshotDir(const std::string& dir) {
  SnapshotFiles files;
  const std::string state = absl::StrCat(dir, "/", kStateName);
  absl::StatusOr<std::string> bytes = ReadSmallFile(state, kMaxStateBytes);
  if (!bytes.ok() || !files.state.ParseFromString(*bytes)) {
    return absl::DataLossError(
        absl::StrCat("kvs store: snapshot download ", dir, " is incomplete or unreadable"));
  }
  for (int family = 0; family < 2; ++family) {
    const std::string path = absl::StrCat(dir, "/", kSstNames[family]);
    if (!PathExists(path)) continue;
    (family == 0 ? files.data_sst : files.sessions_sst) = path;
  }
  return files;
}

}  // namespace penncloud::kvs::storage
