// Older versions of files. A replaced content is filed under the file's id (which moves
// with the entry) in the user's versions row, "<file id>/<version>" -> OldVersion, and keeps
// counting toward the quota. A file keeps its newest Options::max_versions, each for
// Options::version_retention_ms; the rest become garbage.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/located.h"
#include "drive/path.h"

namespace penncloud::drive {
namespace {

constexpr int kPageSize = 500;
constexpr int kMaxPages = 100;
constexpr int kMaxAttempts = 32;

struct Kept {
  std::string column;
  std::string raw;
  pb::OldVersion version;
};

std::vector<Kept> ParseNewestFirst(const std::vector<std::pair<std::string, std::string>>& cells) {
  std::vector<Kept> out;
  for (const auto& [column, raw] : cells) {
    Kept k{column, raw, {}};
    if (k.version.ParseFromString(raw)) out.push_back(std::move(k));
  }
  std::sort(out.begin(), out.end(), [](const Kept& a, const Kept& b) {
    return a.version.replaced_ms() != b.version.replaced_ms()
               ? a.version.replaced_ms() > b.version.replaced_ms()
               : a.column > b.column;
  });
  return out;
}

std::string VersionIdOf(const std::string& column) { return column.substr(column.find('/') + 1); }

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Drive::VersionCells(
    const std::string& user, const std::string& file_id) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string prefix = keys::VersionColumn(file_id, "");
  kvs::ListOptions opts{.after = prefix, .limit = 64, .with_values = true};
  for (int page_no = 0; page_no < kMaxPages; ++page_no) {
    auto page = kvs_->List(keys::VersionsRow(user), opts);
    if (!page.ok()) return page.status();
    for (auto& cell : page->cells) {
      if (!cell.column.starts_with(prefix)) return out;
      out.emplace_back(std::move(cell.column), std::move(cell.value));
    }
    if (!page->more || page->cells.empty()) break;
    opts.after = out.back().first;
  }
  return out;
}

bool Drive::KeepVersion(const std::string& user, const std::string& file_id, const pb::Entry& old,
                        int64_t now, uint64_t* pruned_bytes) {
  if (options_.max_versions <= 0) return false;
  pb::OldVersion kept;
  *kept.mutable_entry() = old;
  kept.set_replaced_ms(now);
  std::string raw;
  kept.SerializeToString(&raw);
  if (auto s = kvs_->Put(keys::VersionsRow(user), keys::VersionColumn(file_id, old.version()), raw);
      !s.ok()) {
    PC_LOG(kWarn, "drive.version_not_kept")("user", user)("error", s);
    return false;
  }
  *pruned_bytes += PruneVersions(user, file_id, now);
  return true;
}

// A version dropped by compare-and-delete, so that a restore taking it at the same moment
// and this drop cannot both have it.
static bool DropVersion(kvs::Client* kvs, const std::string& user, const Kept& k) {
  auto gone = kvs->CDelete(keys::VersionsRow(user), k.column, k.raw);
  return gone.ok() && *gone;
}

uint64_t Drive::PruneVersions(const std::string& user, const std::string& file_id, int64_t now) {
  auto cells = VersionCells(user, file_id);
  if (!cells.ok()) return 0;  // pruned at the next replacement or by expiry
  uint64_t pruned = 0;
  auto kept = ParseNewestFirst(*cells);
  for (size_t i = 0; i < kept.size(); ++i) {
    bool expired = kept[i].version.replaced_ms() + options_.version_retention_ms <= now;
    if (i < static_cast<size_t>(options_.max_versions) && !expired) continue;
    if (!DropVersion(kvs_, user, kept[i])) continue;
    const pb::Entry& e = kept[i].version.entry();
    (void)AddGarbage(user, e.version(), e.size(), e.chunk_bytes());
    pruned += e.size();
  }
  return pruned;
}

absl::Status Drive::PurgeVersions(const std::string& user, const std::string& file_id) {
  auto cells = VersionCells(user, file_id);
  if (!cells.ok()) return cells.status();
  for (const auto& k : ParseNewestFirst(*cells)) {
    if (!DropVersion(kvs_, user, k)) continue;
    const pb::Entry& e = k.version.entry();
    if (auto s = AddGarbage(user, e.version(), e.size(), e.chunk_bytes()); !s.ok()) return s;
    if (auto s = ChargeUsage(user, -static_cast<int64_t>(e.size())); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int Drive::ExpireVersions(const std::string& user) {
  int expired = 0;
  int64_t now = Now();
  kvs::ListOptions opts{.after = "", .limit = kPageSize, .with_values = true};
  for (int page_no = 0; page_no < kMaxPages; ++page_no) {
    auto page = kvs_->List(keys::VersionsRow(user), opts);
    if (!page.ok()) break;
    for (const auto& cell : page->cells) {
      Kept k{cell.column, cell.value, {}};
      if (k.version.ParseFromString(cell.value) &&
          k.version.replaced_ms() + options_.version_retention_ms > now) {
        continue;
      }
      if (!DropVersion(kvs_, user, k)) continue;
      const pb::Entry& e = k.version.entry();
      (void)AddGarbage(user, e.version(), e.size(), e.chunk_bytes());
      (void)ChargeUsage(user, -static_cast<int64_t>(e.size()));
      ++expired;
    }
    if (!page->more || page->cells.empty()) break;
    opts.after = page->cells.back().column;
  }
  return expired;
}

namespace {

absl::Status NotAFile(bool exists, bool folder, std::string_view path) {
  if (!exists) return absl::NotFoundError(absl::StrCat("no such file: ", std::string(path)));
  if (folder) return absl::FailedPreconditionError("folders have no versions");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<VersionInfo>> Drive::ListVersions(std::string_view user,
                                                             std::string_view path) {
  auto at = LocatePath(user, path);
  if (!at.ok()) return at.status();
  if (auto s = NotAFile(at->raw.has_value(), IsFolder(at->entry), path); !s.ok()) return s;
  std::string u(user);
  std::vector<VersionInfo> out;
  if (at->entry.file_id().empty()) return out;
  auto cells = VersionCells(u, at->entry.file_id());
  if (!cells.ok()) return cells.status();
  for (const auto& k : ParseNewestFirst(*cells)) {
    out.push_back(VersionInfo{.id = VersionIdOf(k.column),
                              .size = k.version.entry().size(),
                              .modified_ms = k.version.entry().modified_ms(),
                              .replaced_ms = k.version.replaced_ms()});
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Reader>> Drive::OpenVersion(std::string_view user,
                                                           std::string_view path,
                                                           std::string_view version_id) {
  auto at = LocatePath(user, path);
  if (!at.ok()) return at.status();
  if (auto s = NotAFile(at->raw.has_value(), IsFolder(at->entry), path); !s.ok()) return s;
  std::string u(user);
  auto raw = kvs_->Get(keys::VersionsRow(u), keys::VersionColumn(at->entry.file_id(), version_id));
  if (absl::IsNotFound(raw.status()) || at->entry.file_id().empty()) {
    return absl::NotFoundError("no such version of this file");
  }
  if (!raw.ok()) return raw.status();
  pb::OldVersion old;
  if (!old.ParseFromString(*raw)) return absl::DataLossError("corrupt version record");
  const pb::Entry& e = old.entry();
  return std::unique_ptr<Reader>(
      new Reader(kvs_, u, ToInfo(at->name, e), e.version(), e.chunk_bytes(), 0, e.size()));
}

absl::StatusOr<EntryInfo> Drive::RestoreVersion(std::string_view user, std::string_view path,
                                                std::string_view version_id) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  auto parts = SplitPath(path);
  if (!parts.ok()) return parts.status();
  std::string u(user);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto at = Locate(u, *parts);
    if (!at.ok()) return at.status();
    if (auto s = NotAFile(at->raw.has_value(), IsFolder(at->entry), path); !s.ok()) return s;
    const std::string& file_id = at->entry.file_id();
    Kept k{keys::VersionColumn(file_id, version_id), "", {}};
    auto raw = kvs_->Get(keys::VersionsRow(u), k.column);
    if (absl::IsNotFound(raw.status()) || file_id.empty()) {
      return absl::NotFoundError("no such version of this file");
    }
    if (!raw.ok()) return raw.status();
    k.raw = *raw;
    if (!k.version.ParseFromString(k.raw)) return absl::DataLossError("corrupt version record");
    if (!DropVersion(kvs_, u, k)) return absl::NotFoundError("no such version of this file");
    pb::Entry next = at->entry;
    const pb::Entry& old = k.version.entry();
    next.set_version(old.version());
    next.set_size(old.size());
    next.set_chunk_bytes(old.chunk_bytes());
    next.set_content_type(old.content_type());
    int64_t now = Now();
    next.set_modified_ms(now);
    IndexPut(u, JoinPath(*parts), next);  // the path's cells exist already: this refreshes them
    auto done =
        kvs_->CPut(keys::TreeRow(u, at->parent_id), at->name, *at->raw, SerializeEntry(next));
    if (!done.ok() || !*done) {
      (void)kvs_->Put(keys::VersionsRow(u), k.column, k.raw);  // give it back
      if (!done.ok()) return done.status();
      continue;  // the file changed meanwhile: look again
    }
    // Both contents were counted already; the one replaced now becomes a version.
    uint64_t released = 0;
    if (!KeepVersion(u, file_id, at->entry, now, &released)) {
      const pb::Entry& was = at->entry;
      (void)AddGarbage(u, was.version(), was.size(), was.chunk_bytes());
      released += was.size();
    }
    (void)ChargeUsage(u, -static_cast<int64_t>(released));
    ScheduleCollection(u);
    return ToInfo(at->name, next);
  }
  return absl::AbortedError("too many concurrent changes; try again");
}

}  // namespace penncloud::drive
