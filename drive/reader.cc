// Downloads: a byte range of one version, one chunk at a time.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/located.h"
#include "drive/path.h"

namespace penncloud::drive {

absl::StatusOr<std::unique_ptr<Reader>> Drive::Open(std::string_view user, std::string_view path,
                                                    uint64_t begin, std::optional<uint64_t> end) {
  auto at = LocatePath(user, path);
  if (!at.ok()) return at.status();
  if (!at->is_root && !at->raw)
    return absl::NotFoundError(absl::StrCat("no such file: ", std::string(path)));
  if (IsFolder(at->entry)) return absl::FailedPreconditionError("that is a folder, not a file");
  uint64_t size = at->entry.size();
  uint64_t stop = std::min(end.value_or(size), size);
  if (begin > size || begin > stop) return absl::OutOfRangeError("range not satisfiable");
  return std::unique_ptr<Reader>(new Reader(kvs_, std::string(user), ToInfo(at->name, at->entry),
                                            at->entry.version(), at->entry.chunk_bytes(), begin,
                                            stop));
}

Reader::Reader(kvs::Client* kvs, std::string user, EntryInfo info, std::string version,
               uint32_t chunk_bytes, uint64_t begin, uint64_t end)
    : kvs_(kvs),
      user_(std::move(user)),
      info_(std::move(info)),
      version_(std::move(version)),
      chunk_bytes_(chunk_bytes == 0 ? 1 : chunk_bytes),
      begin_(begin),
      end_(end),
      pos_(begin) {}

absl::Status Reader::Restrict(uint64_t begin, uint64_t end) {
  if (begin > end || end > info_.size) return absl::OutOfRangeError("range not satisfiable");
  begin_ = pos_ = begin;
  end_ = end;
  return absl::OkStatus();
}

std::future<absl::StatusOr<std::string>> Reader::Fetch(uint64_t index) {
  return std::async(std::launch::async, [kvs = kvs_, row = keys::ChunkRow(user_, version_, index)] {
    return kvs->Get(row, keys::kChunkColumn);
  });
}

absl::StatusOr<std::string> Reader::Next() {
  if (pos_ >= end_) return std::string();
  uint64_t index = pos_ / chunk_bytes_;
  uint64_t offset = pos_ - index * chunk_bytes_;
  absl::StatusOr<std::string> chunk;
  if (ahead_.valid() && ahead_index_ == index) {
    chunk = ahead_.get();
  } else {
    if (ahead_.valid()) (void)ahead_.get();
    chunk = kvs_->Get(keys::ChunkRow(user_, version_, index), keys::kChunkColumn);
  }
  if (absl::IsNotFound(chunk.status())) {
    // Only a version collected after its grace period lacks chunks: the file was replaced
    // or deleted long ago. Stop rather than splice in another version's bytes.
    return absl::AbortedError("the file was replaced or deleted during the download");
  }
  if (!chunk.ok()) return chunk.status();
  if (chunk->size() <= offset) return absl::DataLossError("file chunk shorter than expected");
  uint64_t take = std::min<uint64_t>(chunk->size() - offset, end_ - pos_);
  pos_ += take;
  if (pos_ < end_) {
    ahead_index_ = index + 1;
    ahead_ = Fetch(ahead_index_);
  }
  if (offset == 0 && take == chunk->size()) return std::move(*chunk);
  return chunk->substr(offset, take);
}

}  // namespace penncloud::drive
