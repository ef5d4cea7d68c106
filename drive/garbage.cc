// Collection of versions nobody refers to: replaced or deleted contents after their grace
// period, and uploads whose frontend died (their pending record went stale).
#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "drive/drive.h"
#include "drive/keys.h"
#include "drive/path.h"
#include "drive/thumbnail_cache.h"
#include "proto/drive.pb.h"

namespace penncloud::drive {
namespace {
constexpr int kMaxRecordsPerCall = 256;
constexpr uint64_t kMaxProbedChunks = uint64_t{1} << 24;  // 16 TiB at 1 MiB chunks
}  // namespace

absl::Status Drive::AddGarbage(const std::string& user, const std::string& version, uint64_t size,
                               uint32_t chunk_bytes) {
  pb::Garbage g;
  g.set_collect_after_ms(Now() + options_.garbage_grace_ms);
  g.set_size(size);
  g.set_chunk_bytes(chunk_bytes);
  std::string raw;
  g.SerializeToString(&raw);
  return kvs_->Put(keys::GarbageRow(user), version, raw);
}

void Drive::DeleteChunks(const std::string& user, const std::string& version, uint64_t count) {
  for (uint64_t i = 0; i < count; ++i) {
    auto s = kvs_->Delete(keys::ChunkRow(user, version, i), keys::kChunkColumn);
    if (!s.ok()) {
      PC_LOG(kWarn, "drive.chunk_delete_failed")("user", user)("version", version)("error", s);
    }
  }
}

// For an upload that died we do not know how many chunks it wrote. They were written in
// order with a few in flight at once, so a run of missing chunks longer than that window
// marks the end.
void Drive::ProbeDeleteChunks(const std::string& user, const std::string& version) {
  constexpr uint64_t kGapThatEnds = 8;
  uint64_t missing = 0;
  for (uint64_t i = 0; i < kMaxProbedChunks && missing < kGapThatEnds; ++i) {
    std::string row = keys::ChunkRow(user, version, i);
    auto page = kvs_->List(row, kvs::ListOptions{.after = "", .limit = 1, .with_values = false});
    if (!page.ok()) return;  // try again at the next collection
    if (page->cells.empty()) {
      ++missing;
      continue;
    }
    missing = 0;
    (void)kvs_->Delete(row, keys::kChunkColumn);
  }
}

absl::StatusOr<int> Drive::CollectGarbage(std::string_view user) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  std::string u(user);
  int64_t now = Now();
  int collected = 0;

  auto garbage =
      kvs_->List(keys::GarbageRow(u),
                 kvs::ListOptions{.after = "", .limit = kMaxRecordsPerCall, .with_values = true});
  if (!garbage.ok()) return garbage.status();
  for (const auto& cell : garbage->cells) {
    pb::Garbage g;
    if (!g.ParseFromString(cell.value)) continue;
    if (g.collect_after_ms() > now) continue;
    uint32_t chunk = std::max<uint32_t>(g.chunk_bytes(), 1);
    DeleteChunks(u, cell.column, (g.size() + chunk - 1) / chunk);
    // Its thumbnails go with it (a failure leaves a few small cells, never a wrong one).
    (void)ThumbnailCache(kvs_).DeleteAll(u, cell.column);
    if (auto s = kvs_->Delete(keys::GarbageRow(u), cell.column); !s.ok()) return s;
    ++collected;
  }

  auto pending =
      kvs_->List(keys::PendingRow(u),
                 kvs::ListOptions{.after = "", .limit = kMaxRecordsPerCall, .with_values = true});
  if (!pending.ok()) return pending.status();
  for (const auto& cell : pending->cells) {
    pb::PendingUpload p;
    if (!p.ParseFromString(cell.value)) continue;
    if (p.collecting()) {
      // A collector claimed it and stopped half-way; finish its job.
    } else if (p.touched_ms() + options_.pending_timeout_ms > now) {
      continue;  // still in progress
    } else if (p.committing()) {
      // The uploader died between claiming and switching the entry: the version may be
      // live, so only the record goes (at worst its chunks leak).
      (void)kvs_->Delete(keys::PendingRow(u), cell.column);
      continue;
    } else {
      pb::PendingUpload claim = p;
      claim.set_collecting(true);
      std::string raw;
      claim.SerializeToString(&raw);
      auto won = kvs_->CPut(keys::PendingRow(u), cell.column, cell.value, raw);
      if (!won.ok()) return won.status();
      if (!*won) continue;  // the uploader touched or committed it just now
    }
    ProbeDeleteChunks(u, cell.column);
    if (auto s = kvs_->Delete(keys::PendingRow(u), cell.column); !s.ok()) return s;
    PC_LOG(kInfo, "drive.abandoned_upload_collected")("user", u)("version", cell.column);
    ++collected;
  }
  // Expired trash and versions become garbage themselves, collected after the grace.
  collected += ExpireTrash(u) + ExpireVersions(u);
  return collected;
}

std::chrono::milliseconds Drive::CollectionInterval() const {
  return std::chrono::milliseconds(
      std::min(options_.garbage_grace_ms, options_.pending_timeout_ms) / 4);
}

void Drive::ScheduleCollection(const std::string& user) {
  if (!options_.background_collection) return;
  {
    std::lock_guard lock(mu_);
    if (queued_.contains(user)) return;
    // Every upload asks; a user who writes often is looked at once per interval, and what
    // the skipped asks would have found is found then.
    auto last = last_collected_.find(user);
    if (last != last_collected_.end()) {
      const CollectorTime due = last->second + CollectionInterval();
      if (std::chrono::steady_clock::now() < due) {
        auto [at, added] = later_.emplace(user, due);
        if (!added) at->second = std::min(at->second, due);
        return;
      }
    }
    queued_.insert(user);
    queue_.push_back(user);
  }
  cv_.notify_one();
}

void Drive::CollectorLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    for (auto it = later_.begin(); it != later_.end();) {
      if (it->second <= now) {
        if (queued_.insert(it->first).second) queue_.push_back(it->first);
        it = later_.erase(it);
      } else {
        ++it;
      }
    }
    std::erase_if(last_collected_,
                  [&](const auto& user) { return user.second + CollectionInterval() <= now; });
    if (queue_.empty()) {
      cv_.wait_for(lock, std::chrono::seconds(5));
      continue;
    }
    std::string user = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase(user);
    last_collected_[user] = now;
    lock.unlock();
    auto result = CollectGarbage(user);
    if (!result.ok()) {
      PC_LOG(kWarn, "drive.collect_failed")("user", user)("error", result.status());
    }
    // Garbage not yet due (and uploads in progress) need another look after the grace.
    auto pending = kvs_->List(keys::GarbageRow(user),
                              kvs::ListOptions{.after = "", .limit = 1, .with_values = false});
    auto uploads = kvs_->List(keys::PendingRow(user),
                              kvs::ListOptions{.after = "", .limit = 1, .with_values = false});
    // Trash and versions expire in days; a user who has any is looked at on the same
    // rhythm (one listing of each row), so expiry needs no separate sweep.
    auto trash = kvs_->List(keys::TrashRow(user),
                            kvs::ListOptions{.after = "", .limit = 1, .with_values = false});
    auto versions = kvs_->List(keys::VersionsRow(user),
                               kvs::ListOptions{.after = "", .limit = 1, .with_values = false});
    auto nonempty = [](const absl::StatusOr<kvs::ColumnPage>& page) {
      return page.ok() && !page->cells.empty();
    };
    bool more = nonempty(pending) || nonempty(uploads) || nonempty(trash) || nonempty(versions);
    lock.lock();
    if (more) {
      int64_t wait_ms = std::min(options_.garbage_grace_ms, options_.pending_timeout_ms) / 2 + 1000;
      const CollectorTime due =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
      auto [at, added] = later_.emplace(user, due);
      if (!added) at->second = std::min(at->second, due);
    }
  }
}

}  // namespace penncloud::drive
