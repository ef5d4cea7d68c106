// The drive's part of a move between two users' drives (cross_move.h): a copy that can be
// run again after a crash and picks up where the last run stopped, and removals that take
// only the item the move began with, the source's into the trash without a moment where a
// crash could lose it.
#include "absl/strings/str_cat.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/located.h"
#include "drive/path.h"

namespace penncloud::drive {
namespace {

constexpr int kMaxRecursion = static_cast<int>(kMaxDepth) + 2;
constexpr int kMaxAttempts = 32;
constexpr int kTrashPage = 500;
constexpr int kMaxTrashPages = 1000;

std::string Serialize(const pb::TrashItem& item) {
  std::string out;
  item.SerializeToString(&out);
  return out;
}

}  // namespace

absl::Status Drive::CopyMissing(const std::string& from_user, const std::vector<std::string>& from,
                                const std::string& to_user, const std::vector<std::string>& to,
                                const std::string& top_id, const CopyPace& pace) {
  if (from.empty() || to.empty()) return absl::FailedPreconditionError("the root cannot move");
  auto src = Locate(from_user, from);
  if (!src.ok()) return src.status();
  if (!src->raw) {
    return absl::NotFoundError(absl::StrCat("no such file or folder: ", JoinPath(from)));
  }
  auto dst = Locate(to_user, to);
  if (!dst.ok()) return dst.status();
  // Anything at the destination but this move's own copy was cleared before the copy began.
  if (dst->raw && ItemId(dst->entry) != top_id) {
    return absl::AlreadyExistsError(absl::StrCat("already exists: ", JoinPath(to)));
  }
  auto s = CopyMissingLocated(from_user, *src, to_user, to, top_id, 0, pace);
  ScheduleCollection(to_user);
  return s;
}

absl::Status Drive::CopyMissingLocated(const std::string& from_user, const Located& from,
                                       const std::string& to_user,
                                       const std::vector<std::string>& to, const std::string& id,
                                       int depth, const CopyPace& pace) {
  if (depth > kMaxRecursion) return absl::FailedPreconditionError("folders nested too deep");
  auto dst = Locate(to_user, to);
  if (!dst.ok()) return dst.status();
  if (dst->raw && IsFolder(dst->entry) != IsFolder(from.entry)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a ", IsFolder(dst->entry) ? "folder" : "file", " is in the way: ", JoinPath(to)));
  }
  if (!IsFolder(from.entry)) {
    // A file entry appears only whole (an upload's commit), so one that is there was
    // copied by an earlier run (or is newer than the move, and wins). So was one that
    // appears while this run copies it (another run's commit comes first, and this one's
    // if-none-match condition fails).
    if (dst->raw) return absl::OkStatus();
    auto s = CopyLocated(from_user, from, to_user, to, depth, id, pace);
    return absl::IsAlreadyExists(s) || IsConditionFailed(s) ? absl::OkStatus() : s;
  }
  std::string folder_id;
  if (dst->raw) {
    folder_id = dst->entry.folder_id();
  } else {
    pb::Entry folder;
    folder.set_kind(pb::Entry::FOLDER);
    folder.set_folder_id(id.empty() ? keys::RandomId() : id);
    folder.set_created_ms(Now());
    folder.set_modified_ms(folder.created_ms());
    *folder.mutable_dead_props() = from.entry.dead_props();
    IndexPut(to_user, JoinPath(to), folder);  // before the tree, as every change indexes
    auto made = kvs_->CPut(keys::TreeRow(to_user, dst->parent_id), dst->name, std::nullopt,
                           SerializeEntry(folder));
    if (!made.ok()) return made.status();
    // Lost to another run of the same move (or a folder made there meanwhile): go on in it.
    if (!*made) return CopyMissingLocated(from_user, from, to_user, to, id, depth + 1, pace);
    folder_id = folder.folder_id();
  }
  return ForEachChild(from_user, from.entry.folder_id(), [&](const Located& child) {
    std::vector<std::string> child_to = to;
    child_to.push_back(child.name);
    if (auto s = pace(); !s.ok()) return s;
    return CopyMissingLocated(from_user, child, to_user, child_to, "", depth + 1, pace);
  });
}

absl::StatusOr<std::string> Drive::IdAt(const std::string& user,
                                        const std::vector<std::string>& path) {
  auto at = Locate(user, path);
  if (!at.ok()) return at.status();
  if (!at->raw)
    return absl::NotFoundError(absl::StrCat("no such file or folder: ", JoinPath(path)));
  return ItemId(at->entry);
}

absl::Status Drive::RemoveIfId(const std::string& user, const std::vector<std::string>& path,
                               const std::string& id, bool final) {
  if (path.empty()) return absl::FailedPreconditionError("the root folder cannot be deleted");
  auto at = Locate(user, path);
  if (absl::IsNotFound(at.status())) return absl::OkStatus();  // its folder is gone too
  if (!at.ok()) return at.status();
  if (!at->raw || ItemId(at->entry) != id) return absl::OkStatus();
  std::string at_path = JoinPath(path);
  std::vector<IndexedName> indexed = TreeNames(user, at_path, at->entry);
  absl::Status s = !final && options_.trash_retention_ms > 0 ? MoveToTrash(user, at_path, *at)
                                                             : DeleteLocated(user, *at);
  if (s.ok()) {
    IndexRemove(user, indexed);
  }
  ScheduleCollection(user);
  return s;
}

absl::Status Drive::TrashForMove(const std::string& user, const std::vector<std::string>& path,
                                 const std::string& id, const std::string& trash_id) {
  if (path.empty()) return absl::FailedPreconditionError("the root folder cannot be deleted");
  if (options_.trash_retention_ms <= 0) return RemoveIfId(user, path, id, /*final=*/true);
  std::string trash_row = keys::TrashRow(user);
  std::string at_path = JoinPath(path);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto at = Locate(user, path);
    if (!at.ok() && !absl::IsNotFound(at.status())) return at.status();
    bool there = at.ok() && at->raw && ItemId(at->entry) == id;
    if (!there) return ShowTrashedForMove(user, id, trash_id);
    // 1. The trash item, hidden: from here on the item is never only in the air.
    pb::TrashItem item;
    *item.mutable_entry() = at->entry;
    item.set_path(at_path);
    item.set_deleted_ms(Now());
    item.set_size(at->entry.size());
    if (IsFolder(at->entry)) {
      auto bytes = SubtreeBytes(user, at->entry.folder_id(), 0);
      if (!bytes.ok()) return bytes.status();
      item.set_size(*bytes);
    }
    item.set_hidden_for_move(trash_id);
    if (auto s = kvs_->Put(trash_row, trash_id, Serialize(item)); !s.ok()) return s;
    // 2. Out of the tree, if it is still what the trash item holds (an upload may have
    // replaced the file's content meanwhile: then the item is written again).
    auto deleted = kvs_->CDelete(keys::TreeRow(user, at->parent_id), at->name, *at->raw);
    if (!deleted.ok()) return deleted.status();
    if (!*deleted) continue;
    IndexTree(user, at_path, at->entry, /*add=*/false);
    // 3. Shown in the trash.
    ScheduleCollection(user);
    return ShowTrashedForMove(user, id, trash_id);
  }
  return absl::AbortedError("the source kept changing; try again");
}

absl::Status Drive::ShowTrashedForMove(const std::string& user, const std::string& id,
                                       const std::string& trash_id) {
  std::string trash_row = keys::TrashRow(user);
  auto raw = kvs_->Get(trash_row, trash_id);
  // Never written: the item left by other means.
  if (absl::IsNotFound(raw.status())) return absl::OkStatus();
  if (!raw.ok()) return raw.status();
  pb::TrashItem item;
  if (!item.ParseFromString(*raw)) return absl::DataLossError("corrupt trash item");
  if (item.hidden_for_move().empty()) return absl::OkStatus();  // shown already
  // The entry is out of the tree: by this move's compare-and-delete, or by the owner's
  // delete before it (the item is then in the trash already under another id, and this
  // copy of it must go, or purging one would empty the other). A file without an id (made
  // before ids) cannot be told apart; it is shown.
  auto elsewhere = id.empty() ? absl::StatusOr<bool>(false) : TrashHolds(user, id, trash_id);
  if (!elsewhere.ok()) return elsewhere.status();
  if (*elsewhere) return kvs_->CDelete(trash_row, trash_id, *raw).status();
  item.clear_hidden_for_move();
  return kvs_->CPut(trash_row, trash_id, *raw, Serialize(item)).status();
}

absl::StatusOr<bool> Drive::TrashHolds(const std::string& user, const std::string& id,
                                       const std::string& except_trash_id) {
  kvs::ListOptions opts{.after = "", .limit = kTrashPage, .with_values = true};
  for (int page_no = 0; page_no < kMaxTrashPages; ++page_no) {
    auto page = kvs_->List(keys::TrashRow(user), opts);
    if (!page.ok()) return page.status();
    for (const auto& cell : page->cells) {
      pb::TrashItem item;
      if (cell.column == except_trash_id || !item.ParseFromString(cell.value)) continue;
      if (ItemId(item.entry()) == id) return true;
    }
    if (!page->more || page->cells.empty()) break;
    opts.after = page->cells.back().column;
  }
  return false;
}

}  // namespace penncloud::drive
