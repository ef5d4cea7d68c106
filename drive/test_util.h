// Helpers shared by the drive tests: a Drive over a MemoryClient with a fake clock and
// tiny chunks, so chunk boundaries are crossed by short strings.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "drive/drive.h"
#include "drive/keys.h"
#include "kvs/client/memory_client.h"

namespace penncloud::drive {

class DriveTest : public ::testing::Test {
 protected:
  // Deletes are final and replaced contents are not kept unless `recovery` (trash and
  // versions) is asked for: most tests watch collection happen right after a delete.
  explicit DriveTest(uint32_t chunk_bytes = 4, bool recovery = false) {
    Options options;
    options.chunk_bytes = chunk_bytes;
    options.garbage_grace_ms = 1000;
    options.pending_timeout_ms = 10000;
    options.now_ms = [this] { return clock_.load(); };
    if (!recovery) {
      options.trash_retention_ms = 0;
      options.max_versions = 0;
    } else {
      options.trash_retention_ms = kRetentionMs;
      options.max_versions = 3;
      options.version_retention_ms = kRetentionMs;
    }
    drive_ = std::make_unique<Drive>(&kvs_, options);
  }

  static constexpr int64_t kRetentionMs = 100'000;

  absl::Status Write(const std::string& user, const std::string& path, const std::string& data,
                     UploadOptions options = {}) {
    auto upload = drive_->BeginUpload(user, path, options);
    if (!upload.ok()) return upload.status();
    // Feed in uneven pieces, as a network would.
    for (size_t i = 0; i < data.size();) {
      size_t n = std::min<size_t>(1 + i % 7, data.size() - i);
      if (auto s = (*upload)->Append(std::string_view(data).substr(i, n)); !s.ok()) return s;
      i += n;
    }
    return (*upload)->Commit().status();
  }

  absl::StatusOr<std::string> Read(const std::string& user, const std::string& path,
                                   uint64_t begin = 0, std::optional<uint64_t> end = std::nullopt) {
    auto reader = drive_->Open(user, path, begin, end);
    if (!reader.ok()) return reader.status();
    std::string out;
    for (int i = 0; i < 1000000; ++i) {
      auto piece = (*reader)->Next();
      if (!piece.ok()) return piece.status();
      if (piece->empty()) return out;
      out += *piece;
    }
    return absl::InternalError("reader never ended");
  }

  std::vector<std::string> Names(const std::string& user, const std::string& path) {
    std::vector<std::string> names;
    auto list = drive_->List(user, path);
    EXPECT_TRUE(list.ok()) << list.status();
    if (list.ok()) {
      for (const auto& e : *list) names.push_back(e.name + (e.folder ? "/" : ""));
    }
    return names;
  }

  // How many chunks of `version` are stored (probing indices in order, up to a bound).
  int ChunksOf(const std::string& user, const std::string& version) {
    int n = 0;
    for (int i = 0; i < 10000; ++i) {
      if (kvs_.Get(keys::ChunkRow(user, version, i), keys::kChunkColumn).ok()) ++n;
    }
    return n;
  }

  kvs::MemoryClient kvs_;
  std::atomic<int64_t> clock_{1'000'000};
  std::unique_ptr<Drive> drive_;
};

}  // namespace penncloud::drive
