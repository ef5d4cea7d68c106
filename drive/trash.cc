// The trash: a delete moves the entry (a folder with its whole tree, by one cell) to the
// user's trash row, where it can be restored or purged. Its bytes keep counting toward the
// quota until then; the collector purges items older than Options::trash_retention_ms.
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

constexpr int kMaxPages = 1000;
constexpr int kPageSize = 500;
// "(restored)" then "(restored 2)" ... before giving up on a free name.
constexpr int kMaxRenames = 20;
constexpr int kMaxRecursion = static_cast<int>(kMaxDepth) + 2;

// "report.txt" -> "report (restored).txt", "report (restored 2).txt", ...
std::string RestoredName(const std::string& name, int n) {
  size_t dot = name.rfind('.');
  if (dot == 0 || dot == std::string::npos) dot = name.size();
  std::string tag = n == 1 ? " (restored)" : absl::StrCat(" (restored ", n, ")");
  return absl::StrCat(name.substr(0, dot), tag, name.substr(dot));
}

std::string Serialize(const pb::TrashItem& item) {
  std::string out;
  item.SerializeToString(&out);
  return out;
}

}  // namespace

absl::StatusOr<uint64_t> Drive::SubtreeBytes(const std::string& user, const std::string& folder_id,
                                             int depth) {
  if (depth > kMaxRecursion) return absl::FailedPreconditionError("folders nested too deep");
  uint64_t total = 0;
  auto s = ForEachChild(user, folder_id, [&](const Located& child) -> absl::Status {
    if (!IsFolder(child.entry)) {
      total += child.entry.size();
      return absl::OkStatus();
    }
    auto inner = SubtreeBytes(user, child.entry.folder_id(), depth + 1);
    if (!inner.ok()) return inner.status();
    total += *inner;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return total;
}

absl::Status Drive::MoveToTrash(const std::string& user, const std::string& path,
                                const Located& at) {
  pb::TrashItem item;
  *item.mutable_entry() = at.entry;
  item.set_path(path);
  item.set_deleted_ms(Now());
  if (IsFolder(at.entry)) {
    auto bytes = SubtreeBytes(user, at.entry.folder_id(), 0);
    if (!bytes.ok()) return bytes.status();
    item.set_size(*bytes);
  } else {
    item.set_size(at.entry.size());
  }
  // The entry leaves the tree first (compare-and-delete, as a final delete does), so a
  // crash in between loses the item from sight but never leaves two owners of one content.
  std::string row = keys::TreeRow(user, at.parent_id);
  auto deleted = kvs_->CDelete(row, at.name, *at.raw);
  if (!deleted.ok()) return deleted.status();
  if (!*deleted) {
    auto raw = kvs_->Get(row, at.name);
    if (absl::IsNotFound(raw.status())) return absl::OkStatus();  // someone else deleted it
    if (!raw.ok()) return raw.status();
    return absl::AbortedError("changed while being deleted; try again");
  }
  std::string id = keys::RandomId();
  if (auto s = kvs_->Put(keys::TrashRow(user), id, Serialize(item)); !s.ok()) {
    // Put it back rather than lose it; if even that fails the item is gone from sight.
    (void)kvs_->CPut(row, at.name, std::nullopt, *at.raw);
    PC_LOG(kWarn, "drive.trash_failed")("user", user)("error", s);
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TrashEntry>> Drive::ListTrash(std::string_view user) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  std::vector<TrashEntry> out;
  kvs::ListOptions opts{.after = "", .limit = kPageSize, .with_values = true};
  for (int page_no = 0; page_no < kMaxPages; ++page_no) {
    auto page = kvs_->List(keys::TrashRow(user), opts);
    if (!page.ok()) return page.status();
    for (const auto& cell : page->cells) {
      pb::TrashItem item;
      if (!item.ParseFromString(cell.value) || !item.hidden_for_move().empty()) continue;
      out.push_back(TrashEntry{.id = cell.column,
                               .path = item.path(),
                               .folder = IsFolder(item.entry()),
                               .size = item.size(),
                               .deleted_ms = item.deleted_ms()});
    }
    if (!page->more || page->cells.empty()) break;
    opts.after = page->cells.back().column;
  }
  std::sort(out.begin(), out.end(), [](const TrashEntry& a, const TrashEntry& b) {
    return a.deleted_ms != b.deleted_ms ? a.deleted_ms > b.deleted_ms : a.id < b.id;
  });
  return out;
}

absl::StatusOr<std::string> Drive::EnsureFolders(const std::string& user,
                                                 const std::vector<std::string>& parts) {
  std::string id(keys::kRootFolderId);
  std::vector<std::string> walked;
  for (const auto& part : parts) {
    walked.push_back(part);
    for (int attempt = 0;; ++attempt) {
      auto raw = kvs_->Get(keys::TreeRow(user, id), part);
      if (raw.ok()) {
        auto entry = ParseEntry(*raw);
        if (!entry.ok()) return entry.status();
        if (!IsFolder(*entry)) {
          return absl::FailedPreconditionError(
              absl::StrCat("cannot restore: ", JoinPath(walked), " is a file now"));
        }
        id = entry->folder_id();
        break;
      }
      if (!absl::IsNotFound(raw.status())) return raw.status();
      if (attempt >= 4) return absl::AbortedError("folders changed during the restore");
      pb::Entry folder;
      folder.set_kind(pb::Entry::FOLDER);
      folder.set_folder_id(keys::RandomId());
      folder.set_created_ms(Now());
      folder.set_modified_ms(folder.created_ms());
      IndexPut(user, JoinPath(walked), folder);  // before the tree, as every change indexes
      auto made = kvs_->CPut(keys::TreeRow(user, id), part, std::nullopt, SerializeEntry(folder));
      if (!made.ok()) return made.status();
      if (*made) {
        id = folder.folder_id();
        break;
      }
    }
  }
  return id;
}

absl::StatusOr<std::string> Drive::Restore(std::string_view user, std::string_view id) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  std::string u(user), trash_id(id);
  auto raw = kvs_->Get(keys::TrashRow(u), trash_id);
  if (absl::IsNotFound(raw.status())) return absl::NotFoundError("no such item in the trash");
  if (!raw.ok()) return raw.status();
  pb::TrashItem item;
  if (!item.ParseFromString(*raw)) return absl::DataLossError("corrupt trash item");
  if (!item.hidden_for_move().empty()) return absl::NotFoundError("no such item in the trash");
  auto parts = SplitPath(item.path());
  if (!parts.ok() || parts->empty()) return absl::DataLossError("corrupt trash item path");
  std::vector<std::string> parent(parts->begin(), parts->end() - 1);
  auto parent_id = EnsureFolders(u, parent);
  if (!parent_id.ok()) return parent_id.status();
  // Claim the item, so that two restores (or a restore and a purge) cannot both have it.
  auto claimed = kvs_->CDelete(keys::TrashRow(u), trash_id, *raw);
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) return absl::NotFoundError("no such item in the trash");
  std::string value = SerializeEntry(item.entry());
  for (int n = 0; n <= kMaxRenames; ++n) {
    std::string name = n == 0 ? parts->back() : RestoredName(parts->back(), n);
    if (!ValidateName(name).ok()) break;  // too long to rename
    std::vector<std::string> at = parent;
    at.push_back(name);
    std::string path = JoinPath(at);
    // Under another name it is a move as far as records naming its path are concerned
    // (shares): they are told first, as by Move, and they settle by the item's id.
    AfterMove after;
    if (n > 0) {
      auto told = TellMoveHook(u, item.path(), path);
      if (!told.ok()) {
        (void)kvs_->Put(keys::TrashRow(u), trash_id, *raw);
        return told.status();
      }
      after = *std::move(told);
    }
    // Indexed before it is back in the tree; if the name is taken, the cells written for it
    // are the taken entry's own or name nothing, which search drops.
    IndexTree(u, path, item.entry(), /*add=*/true);
    auto put = kvs_->CPut(keys::TreeRow(u, *parent_id), name, std::nullopt, value);
    if (!put.ok()) {
      (void)kvs_->Put(keys::TrashRow(u), trash_id, *raw);
      return put.status();
    }
    if (after) after(*put);
    if (!*put) continue;
    return path;
  }
  (void)kvs_->Put(keys::TrashRow(u), trash_id, *raw);
  return absl::AlreadyExistsError(
      absl::StrCat("cannot restore: ", item.path(), " and its renamed copies are taken"));
}

absl::Status Drive::PurgeItem(const std::string& user, const std::string& id,
                              const std::string& raw) {
  pb::TrashItem item;
  if (!item.ParseFromString(raw)) return kvs_->Delete(keys::TrashRow(user), id);
  // Its move shows it once the entry has left the tree; until then the tree may hold it.
  if (!item.hidden_for_move().empty()) return absl::NotFoundError("no such item in the trash");
  if (IsFolder(item.entry())) {
    // Contents first: each file is released by its own compare-and-delete, so a second
    // purge running at once releases nothing twice.
    if (auto s = DeleteFolderContents(user, item.entry().folder_id(), 0); !s.ok()) return s;
    auto gone = kvs_->CDelete(keys::TrashRow(user), id, raw);
    return gone.status();
  }
  auto claimed = kvs_->CDelete(keys::TrashRow(user), id, raw);
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) return absl::OkStatus();  // purged or restored by someone else
  return ReleaseFile(user, item.entry());
}

absl::Status Drive::Purge(std::string_view user, std::string_view id) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  std::string u(user), trash_id(id);
  auto raw = kvs_->Get(keys::TrashRow(u), trash_id);
  if (absl::IsNotFound(raw.status())) return absl::NotFoundError("no such item in the trash");
  if (!raw.ok()) return raw.status();
  auto s = PurgeItem(u, trash_id, *raw);
  ScheduleCollection(u);
  return s;
}

absl::StatusOr<int> Drive::EmptyTrash(std::string_view user) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  std::string u(user);
  int purged = 0;
  kvs::ListOptions opts{.after = "", .limit = kPageSize, .with_values = true};
  for (int page_no = 0; page_no < kMaxPages; ++page_no) {
    auto page = kvs_->List(keys::TrashRow(u), opts);
    if (!page.ok()) return page.status();
    for (const auto& cell : page->cells) {
      auto s = PurgeItem(u, cell.column, cell.value);
      if (absl::IsNotFound(s)) continue;  // hidden: a move's, not yet in the trash
      if (!s.ok()) return s;
      ++purged;
    }
    if (!page->more || page->cells.empty()) break;
    opts.after = page->cells.back().column;
  }
  ScheduleCollection(u);
  return purged;
}

int Drive::ExpireTrash(const std::string& user) {
  if (options_.trash_retention_ms <= 0) return 0;
  auto page = kvs_->List(keys::TrashRow(user),
                         kvs::ListOptions{.after = "", .limit = kPageSize, .with_values = true});
  if (!page.ok()) return 0;
  int64_t now = Now();
  int purged = 0;
  for (const auto& cell : page->cells) {
    pb::TrashItem item;
    if (item.ParseFromString(cell.value) && item.deleted_ms() + options_.trash_retention_ms > now) {
      continue;
    }
    if (auto s = PurgeItem(user, cell.column, cell.value); !s.ok()) {
      if (!absl::IsNotFound(s)) {
        PC_LOG(kWarn, "drive.trash_expiry_failed")("user", user)("error", s);
      }
      continue;
    }
    ++purged;
  }
  return purged;
}

}  // namespace penncloud::drive
