// Uploads: chunks under a fresh version, then one compare-and-put of the entry.
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/content_type.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/located.h"
#include "drive/path.h"

namespace penncloud::drive {
namespace {

constexpr int kMaxCommitAttempts = 32;
constexpr size_t kWritesInFlight = 4;

std::string SerializePending(int64_t touched_ms, uint32_t chunk_bytes, bool committing) {
  pb::PendingUpload p;
  p.set_touched_ms(touched_ms);
  p.set_chunk_bytes(chunk_bytes);
  p.set_committing(committing);
  std::string out;
  p.SerializeToString(&out);
  return out;
}

constexpr char kConditionPayload[] = "penncloud.storage/condition";

absl::Status ConditionFailed(std::string message) {
  absl::Status s = absl::FailedPreconditionError(message);
  s.SetPayload(kConditionPayload, absl::Cord("1"));
  return s;
}

absl::Status PreconditionsHold(const UploadOptions& options, const std::optional<std::string>& raw,
                               const pb::Entry& existing) {
  if (raw && IsFolder(existing)) return absl::FailedPreconditionError("a folder is at that path");
  if (options.if_none_match && raw) return ConditionFailed("the file already exists");
  if (options.if_match) {
    if (!raw) return ConditionFailed("the file does not exist (If-Match)");
    if (*options.if_match != "*" && *options.if_match != existing.version()) {
      return ConditionFailed("the file has changed (ETag does not match)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsConditionFailed(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) && status.GetPayload(kConditionPayload).has_value();
}

absl::StatusOr<std::unique_ptr<Upload>> Drive::BeginUpload(std::string_view user,
                                                           std::string_view path,
                                                           UploadOptions options) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  auto parts = SplitPath(path);
  if (!parts.ok()) return parts.status();
  if (parts->empty()) return absl::FailedPreconditionError("cannot upload to the root folder");
  std::string u(user);
  auto at = Locate(u, *parts);
  if (!at.ok()) return at.status();
  if (auto s = PreconditionsHold(options, at->raw, at->entry); !s.ok()) return s;
  auto usage = GetUsage(u);
  if (!usage.ok()) return usage.status();
  uint64_t old_size = at->raw ? at->entry.size() : 0;
  uint64_t budget = usage->quota_bytes + old_size;
  uint64_t allowance = budget > usage->used_bytes ? budget - usage->used_bytes : 0;
  if (options.content_type.empty()) options.content_type = GuessContentType(parts->back());

  std::unique_ptr<Upload> upload(
      new Upload(this, u, *parts, keys::RandomId(), std::move(options), allowance));
  upload->creates_ = !at->raw;
  upload->touched_ms_ = Now();
  upload->pending_raw_ = SerializePending(upload->touched_ms_, options_.chunk_bytes, false);
  if (auto s = kvs_->Put(keys::PendingRow(u), upload->version_, upload->pending_raw_); !s.ok()) {
    upload->done_ = true;
    return s;
  }
  // A good moment to tidy up after this user's earlier uploads and deletions.
  ScheduleCollection(u);
  return upload;
}

Upload::Upload(Drive* drive, std::string user, std::vector<std::string> path, std::string version,
               UploadOptions options, uint64_t allowance)
    : drive_(drive),
      user_(std::move(user)),
      path_(std::move(path)),
      version_(std::move(version)),
      options_(std::move(options)),
      allowance_(allowance) {
  buffer_.reserve(drive_->options_.chunk_bytes);
}

Upload::~Upload() {
  if (!done_) Abort();
}

absl::Status Upload::Append(std::string_view bytes) {
  if (done_) return absl::FailedPreconditionError("upload already finished");
  if (!error_.ok()) return error_;
  if (bytes.size() > allowance_ - std::min(allowance_, size_)) {
    error_ = absl::ResourceExhaustedError("the file does not fit in your quota");
    return error_;
  }
  const size_t chunk = drive_->options_.chunk_bytes;
  while (!bytes.empty()) {
    size_t take = std::min(chunk - buffer_.size(), bytes.size());
    buffer_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    size_ += take;
    if (buffer_.size() == chunk) {
      if (auto s = FlushChunk(); !s.ok()) return s;
    }
  }
  // Keep the pending record fresh so the collector does not take a slow upload for dead.
  int64_t now = drive_->Now();
  if (now - touched_ms_ >= drive_->options_.pending_timeout_ms / 4) {
    std::string next = SerializePending(now, drive_->options_.chunk_bytes, false);
    auto done = drive_->kvs_->CPut(keys::PendingRow(user_), version_, pending_raw_, next);
    if (!done.ok()) return error_ = done.status();
    if (!*done) return error_ = absl::AbortedError("upload timed out and was discarded");
    pending_raw_ = std::move(next);
    touched_ms_ = now;
  }
  return absl::OkStatus();
}

absl::Status Upload::FlushChunk(bool last) {
  kvs::Client* kvs = drive_->kvs_;
  std::string row = keys::ChunkRow(user_, version_, chunks_);
  // Counted before the write finishes: it may take effect even if it reports an error, and
  // Abort deletes chunks [0, chunks_).
  ++chunks_;
  if (last && writes_.empty()) {
    // The only write of a small file: no thread to start for a write waited on at once.
    absl::Status s = kvs->Put(row, keys::kChunkColumn, buffer_);
    buffer_.clear();
    if (!s.ok()) error_ = s;
    return s;
  }
  std::string data;
  data.swap(buffer_);
  buffer_.reserve(drive_->options_.chunk_bytes);
  writes_.push_back(
      std::async(std::launch::async, [kvs, row = std::move(row), data = std::move(data)] {
        return kvs->Put(row, keys::kChunkColumn, data);
      }));
  if (writes_.size() < kWritesInFlight) return absl::OkStatus();
  absl::Status s = writes_.front().get();
  writes_.pop_front();
  if (!s.ok()) error_ = s;
  return s;
}

absl::Status Upload::DrainWrites() {
  absl::Status first;
  while (!writes_.empty()) {
    absl::Status s = writes_.front().get();
    writes_.pop_front();
    if (first.ok() && !s.ok()) first = s;
  }
  if (error_.ok() && !first.ok()) error_ = first;
  return first;
}

absl::StatusOr<EntryInfo> Upload::Commit() {
  if (done_) return absl::FailedPreconditionError("upload already finished");
  if (error_.ok() && !buffer_.empty()) (void)FlushChunk(/*last=*/true);
  (void)DrainWrites();
  if (!error_.ok()) {
    absl::Status s = error_;
    Abort();
    return s;
  }
  kvs::Client* kvs = drive_->kvs_;
  // Claim the pending record; losing means the collector took this upload for abandoned.
  std::string claim = SerializePending(touched_ms_, drive_->options_.chunk_bytes, true);
  auto claimed = kvs->CPut(keys::PendingRow(user_), version_, pending_raw_, claim);
  if (!claimed.ok() || !*claimed) {
    done_ = true;
    if (!claimed.ok()) return claimed.status();  // the collector will see the record later
    // The collector took this upload for abandoned. It may have probed before our last
    // writes landed, so delete them too (both sides deleting is harmless).
    drive_->DeleteChunks(user_, version_, chunks_);
    return absl::AbortedError("upload timed out and was discarded");
  }
  pending_raw_ = claim;

  bool unknown = false;
  auto landed = drive_->SwitchEntry(user_, path_, version_, size_, options_, dead_props_, &unknown);
  if (landed.ok() || unknown) {
    // Unknown outcome: the entry may now point at our version, so keep the chunks (the
    // pending record is marked committing and is never collected) and report the error.
    done_ = true;
    if (landed.ok()) (void)kvs->Delete(keys::PendingRow(user_), version_);
    return landed;
  }
  Abort();
  return landed.status();
}

absl::StatusOr<EntryInfo> Drive::SwitchEntry(
    const std::string& user, const std::vector<std::string>& path, const std::string& version,
    uint64_t size, const UploadOptions& options,
    const std::optional<std::map<std::string, std::string>>& dead_props, bool* outcome_unknown) {
  *outcome_unknown = false;
  absl::Status failure;
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    auto at = Locate(user, path);
    if (!at.ok()) {
      failure = at.status();
      break;
    }
    // Already switched (a resumable upload's landing run again after a crash): done.
    if (at->raw && !IsFolder(at->entry) && at->entry.version() == version) {
      return ToInfo(path.back(), at->entry);
    }
    if (failure = PreconditionsHold(options, at->raw, at->entry); !failure.ok()) break;
    uint64_t old_size = at->raw ? at->entry.size() : 0;
    auto usage = GetUsage(user);
    if (!usage.ok()) {
      failure = usage.status();
      break;
    }
    // The replaced content stays as a version (still counted) when both fit; when only the
    // new one fits, the old one is not kept.
    bool keep_old =
        at->raw && options_.max_versions > 0 && usage->used_bytes + size <= usage->quota_bytes;
    if (!keep_old && usage->used_bytes + size > usage->quota_bytes + old_size) {
      failure = absl::ResourceExhaustedError("the file does not fit in your quota");
      break;
    }
    pb::Entry entry;
    entry.set_kind(pb::Entry::FILE);
    entry.set_version(version);
    entry.set_size(size);
    entry.set_chunk_bytes(options_.chunk_bytes);
    entry.set_content_type(options.content_type);
    int64_t now = Now();
    entry.set_created_ms(at->raw ? at->entry.created_ms() : now);
    entry.set_modified_ms(now);
    entry.set_file_id(at->raw && !at->entry.file_id().empty() ? at->entry.file_id()
                      : !options.new_file_id.empty()          ? options.new_file_id
                                                              : keys::RandomId());
    if (dead_props) {
      entry.mutable_dead_props()->insert(dead_props->begin(), dead_props->end());
    } else if (at->raw) {
      *entry.mutable_dead_props() = at->entry.dead_props();
    }
    std::optional<std::string_view> expected;
    if (at->raw) expected = *at->raw;
    // Indexed before the commit, so a crash after it cannot leave the file unfindable.
    IndexPut(user, JoinPath(path), entry);
    auto done =
        kvs_->CPut(keys::TreeRow(user, at->parent_id), at->name, expected, SerializeEntry(entry));
    if (!done.ok()) {
      *outcome_unknown = true;
      return done.status();
    }
    if (!*done) continue;  // someone else changed the entry: look again
    uint64_t pruned = 0;   // older versions the kept one pushed out
    if (at->raw && !(keep_old && KeepVersion(user, entry.file_id(), at->entry, now, &pruned))) {
      (void)AddGarbage(user, at->entry.version(), at->entry.size(), at->entry.chunk_bytes());
    } else {
      old_size = 0;  // still counted, as a version
    }
    // One compare-and-put of the counter for the new content and everything released.
    (void)ChargeUsage(user, static_cast<int64_t>(size) - static_cast<int64_t>(old_size + pruned));
    ScheduleCollection(user);
    PC_LOG(kInfo, "drive.upload_committed")("user", user)("size", size);
    return ToInfo(path.back(), entry);
  }
  if (failure.ok()) failure = absl::AbortedError("too many concurrent changes; try again");
  return failure;
}

void Upload::Abort() {
  if (done_) return;
  done_ = true;
  (void)DrainWrites();
  drive_->DeleteChunks(user_, version_, chunks_);
  (void)drive_->kvs_->Delete(keys::PendingRow(user_), version_);
}

}  // namespace penncloud::drive
