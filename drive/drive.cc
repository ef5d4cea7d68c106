// The drive's tree operations: resolving paths, folders, move, copy, delete, properties,
// usage. Uploads are in upload.cc, downloads in reader.cc, collection in garbage.cc.
#include "drive/drive.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/located.h"
#include "drive/path.h"

namespace penncloud::drive {

namespace {

// How often a compare-and-put that lost a race is retried before giving up with kAborted.
constexpr int kMaxAttempts = 32;
// Folders nest at most kMaxDepth deep through paths; recursion is bounded a little above.
constexpr int kMaxRecursion = static_cast<int>(kMaxDepth) + 2;

absl::StatusOr<std::optional<std::string>> GetOptional(kvs::Client* kvs, std::string_view row,
                                                       std::string_view column) {
  auto v = kvs->Get(row, column);
  if (v.ok()) return std::optional<std::string>(std::move(*v));
  if (absl::IsNotFound(v.status())) return std::optional<std::string>();
  return v.status();
}

}  // namespace

Drive::Drive(kvs::Client* kvs, Options options) : kvs_(kvs), options_(std::move(options)) {
  if (!options_.now_ms) {
    options_.now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  if (options_.background_collection) collector_ = std::thread([this] { CollectorLoop(); });
}

Drive::~Drive() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (collector_.joinable()) collector_.join();
}

int64_t Drive::Now() const { return options_.now_ms(); }

absl::StatusOr<std::string> Drive::ResolveFolder(const std::string& user,
                                                 const std::vector<std::string>& parts,
                                                 std::vector<std::string>* chain) {
  std::string id(keys::kRootFolderId);
  if (chain) chain->push_back(id);
  for (size_t i = 0; i < parts.size(); ++i) {
    auto raw = kvs_->Get(keys::TreeRow(user, id), parts[i]);
    std::vector<std::string> prefix(parts.begin(), parts.begin() + i + 1);
    if (absl::IsNotFound(raw.status())) {
      return absl::NotFoundError(absl::StrCat("no such folder: ", JoinPath(prefix)));
    }
    if (!raw.ok()) return raw.status();
    auto entry = ParseEntry(*raw);
    if (!entry.ok()) return entry.status();
    if (!IsFolder(*entry)) {
      return absl::FailedPreconditionError(absl::StrCat("not a folder: ", JoinPath(prefix)));
    }
    id = entry->folder_id();
    if (chain) chain->push_back(id);
  }
  return id;
}

absl::StatusOr<Drive::Located> Drive::Locate(const std::string& user,
                                             const std::vector<std::string>& parts,
                                             std::vector<std::string>* chain) {
  Located at;
  if (parts.empty()) {
    at.is_root = true;
    at.entry.set_kind(pb::Entry::FOLDER);
    at.entry.set_folder_id(std::string(keys::kRootFolderId));
    if (chain) chain->push_back(std::string(keys::kRootFolderId));
    return at;
  }
  std::vector<std::string> parent(parts.begin(), parts.end() - 1);
  auto parent_id = ResolveFolder(user, parent, chain);
  if (!parent_id.ok()) return parent_id.status();
  at.parent_id = *parent_id;
  at.name = parts.back();
  auto raw = GetOptional(kvs_, keys::TreeRow(user, at.parent_id), at.name);
  if (!raw.ok()) return raw.status();
  at.raw = std::move(*raw);
  if (at.raw) {
    auto entry = ParseEntry(*at.raw);
    if (!entry.ok()) return entry.status();
    at.entry = std::move(*entry);
  }
  return at;
}

absl::StatusOr<Drive::Located> Drive::LocatePath(std::string_view user, std::string_view path,
                                                 std::vector<std::string>* parts) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  auto split = SplitPath(path);
  if (!split.ok()) return split.status();
  auto at = Locate(std::string(user), *split);
  if (parts != nullptr) *parts = std::move(*split);
  return at;
}

absl::StatusOr<EntryInfo> Drive::Stat(std::string_view user, std::string_view path) {
  std::vector<std::string> parts;
  auto at = LocatePath(user, path, &parts);
  if (!at.ok()) return at.status();
  if (!at->is_root && !at->raw) {
    return absl::NotFoundError(absl::StrCat("no such file or folder: ", JoinPath(parts)));
  }
  return ToInfo(at->name, at->entry);
}

absl::StatusOr<std::vector<EntryInfo>> Drive::List(std::string_view user, std::string_view path) {
  std::vector<std::string> parts;
  auto at = LocatePath(user, path, &parts);
  if (!at.ok()) return at.status();
  if (!at->is_root && !at->raw) {
    return absl::NotFoundError(absl::StrCat("no such folder: ", JoinPath(parts)));
  }
  if (!IsFolder(at->entry)) {
    return absl::FailedPreconditionError(absl::StrCat("not a folder: ", JoinPath(parts)));
  }
  std::string u(user);
  std::vector<EntryInfo> out;
  kvs::ListOptions opts{.after = "", .limit = 500, .with_values = true};
  // Bounded: a folder holds at most this many pages of children.
  for (int page_no = 0; page_no < 10000; ++page_no) {
    auto page = kvs_->List(keys::TreeRow(u, at->entry.folder_id()), opts);
    if (!page.ok()) return page.status();
    for (auto& cell : page->cells) {
      auto entry = ParseEntry(cell.value);
      if (!entry.ok()) continue;  // skip a damaged record rather than hide the whole folder
      out.push_back(ToInfo(cell.column, *entry));
    }
    if (!page->more || page->cells.empty()) break;
    opts.after = page->cells.back().column;
  }
  return out;
}

absl::Status Drive::CreateFolder(std::string_view user, std::string_view path) {
  std::vector<std::string> parts;
  auto at = LocatePath(user, path, &parts);
  if (!at.ok()) return at.status();
  if (at->is_root || at->raw) {
    return absl::AlreadyExistsError(absl::StrCat("already exists: ", JoinPath(parts)));
  }
  std::string u(user);
  pb::Entry entry;
  entry.set_kind(pb::Entry::FOLDER);
  entry.set_folder_id(keys::RandomId());
  entry.set_created_ms(Now());
  entry.set_modified_ms(entry.created_ms());
  // The name is indexed before it enters the tree: a crash in between leaves a cell that
  // search drops, never a folder that search cannot find.
  IndexPut(u, JoinPath(parts), entry);
  auto done =
      kvs_->CPut(keys::TreeRow(u, at->parent_id), at->name, std::nullopt, SerializeEntry(entry));
  if (!done.ok()) return done.status();
  if (!*done) return absl::AlreadyExistsError(absl::StrCat("already exists: ", JoinPath(parts)));
  return absl::OkStatus();
}

absl::Status Drive::Delete(std::string_view user, std::string_view path) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  auto parts = SplitPath(path);
  if (!parts.ok()) return parts.status();
  if (parts->empty()) return absl::FailedPreconditionError("the root folder cannot be deleted");
  std::string u(user);
  absl::Status s;
  // An entry replaced while we deleted it (an upload committed) is looked up again and
  // deleted as it is now: the delete then comes after that upload.
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto at = Locate(u, *parts);
    if (!at.ok()) return at.status();
    if (!at->raw) {
      if (attempt > 0) break;  // deleted by someone else meanwhile
      return absl::NotFoundError(absl::StrCat("no such file or folder: ", std::string(path)));
    }
    std::string at_path = JoinPath(*parts);
    if (options_.trash_retention_ms > 0) {
      s = MoveToTrash(u, at_path, *at);
      if (s.ok()) IndexTree(u, at_path, at->entry, /*add=*/false);
    } else {
      std::vector<IndexedName> indexed = TreeNames(u, at_path, at->entry);
      s = DeleteLocated(u, *at);
      if (s.ok()) {
        IndexRemove(u, indexed);
      }
    }
    if (!absl::IsAborted(s)) break;
  }
  ScheduleCollection(u);
  return s;
}

absl::StatusOr<Drive::Located> Drive::ClearDestination(const std::string& user, const Located& src,
                                                       const std::vector<std::string>& dst_parts,
                                                       const std::string& to, bool overwrite,
                                                       const char* verb) {
  std::vector<std::string> chain;
  auto dst = Locate(user, dst_parts, &chain);
  if (!dst.ok()) return dst.status();
  if (IsFolder(src.entry) &&
      std::find(chain.begin(), chain.end(), src.entry.folder_id()) != chain.end()) {
    return absl::FailedPreconditionError(absl::StrCat("a folder cannot be ", verb, " into itself"));
  }
  if (dst->raw) {
    if (!overwrite) return absl::AlreadyExistsError(absl::StrCat("already exists: ", to));
    // What is overwritten goes to the trash like any delete (a WebDAV client's MOVE over
    // a file is how many editors save).
    std::string dst_path = JoinPath(dst_parts);
    std::vector<IndexedName> indexed = TreeNames(user, dst_path, dst->entry);
    auto s = options_.trash_retention_ms > 0 ? MoveToTrash(user, dst_path, *dst)
                                             : DeleteLocated(user, *dst);
    if (!s.ok()) return s;
    IndexRemove(user, indexed);
  }
  return dst;
}

absl::Status Drive::DeleteLocated(const std::string& user, const Located& at) {
  if (IsFolder(at.entry)) {
    if (auto s = DeleteFolderContents(user, at.entry.folder_id(), 0); !s.ok()) return s;
  }
  // Compare-and-delete: only the entry we looked at goes. An upload that switched it to
  // its own version meanwhile keeps its file; deleting blindly would drop the only
  // reference to that version's chunks (docs/drive.md, "Deleting and moving").
  std::string row = keys::TreeRow(user, at.parent_id);
  auto deleted = kvs_->CDelete(row, at.name, *at.raw);
  if (!deleted.ok()) return deleted.status();
  if (!*deleted) {
    auto now = GetOptional(kvs_, row, at.name);
    if (!now.ok()) return now.status();
    if (!*now) return absl::OkStatus();  // someone else deleted it (and collects it)
    return absl::AbortedError("changed while being deleted; try again");
  }
  if (!IsFolder(at.entry)) return ReleaseFile(user, at.entry);
  return absl::OkStatus();
}

absl::Status Drive::ReleaseFile(const std::string& user, const pb::Entry& entry) {
  if (auto s = AddGarbage(user, entry.version(), entry.size(), entry.chunk_bytes()); !s.ok()) {
    return s;
  }
  if (!entry.file_id().empty()) {
    if (auto s = PurgeVersions(user, entry.file_id()); !s.ok()) return s;
  }
  return ChargeUsage(user, -static_cast<int64_t>(entry.size()));
}

absl::Status Drive::ForEachChild(const std::string& user, const std::string& folder_id,
                                 const std::function<absl::Status(const Located& child)>& visit) {
  kvs::ListOptions opts{.after = "", .limit = 500, .with_values = true};
  for (int page_no = 0; page_no < 20000; ++page_no) {
    auto page = kvs_->List(keys::TreeRow(user, folder_id), opts);
    if (!page.ok()) return page.status();
    for (auto& cell : page->cells) {
      auto entry = ParseEntry(cell.value);
      if (!entry.ok()) continue;
      Located child;
      child.parent_id = folder_id;
      child.name = cell.column;
      child.raw = cell.value;
      child.entry = std::move(*entry);
      if (auto s = visit(child); !s.ok()) return s;
    }
    if (!page->more || page->cells.empty()) return absl::OkStatus();
    opts.after = page->cells.back().column;
  }
  return absl::AbortedError("folder too large to go through in one call");
}

absl::Status Drive::DeleteFolderContents(const std::string& user, const std::string& folder_id,
                                         int depth) {
  if (depth > kMaxRecursion) return absl::FailedPreconditionError("folders nested too deep");
  kvs::ListOptions opts{.after = "", .limit = 100, .with_values = true};
  for (int page_no = 0; page_no < 100000; ++page_no) {
    auto page = kvs_->List(keys::TreeRow(user, folder_id), opts);
    if (!page.ok()) return page.status();
    for (auto& cell : page->cells) {
      Located child;
      child.parent_id = folder_id;
      child.name = cell.column;
      child.raw = cell.value;
      auto entry = ParseEntry(cell.value);
      if (entry.ok()) {
        child.entry = std::move(*entry);
        if (auto s = DeleteLocated(user, child); !s.ok()) return s;
      } else if (auto s = kvs_->Delete(keys::TreeRow(user, folder_id), cell.column); !s.ok()) {
        return s;
      }
    }
    if (!page->more || page->cells.empty()) return absl::OkStatus();
    opts.after = page->cells.back().column;
  }
  return absl::AbortedError("folder too large to delete in one call");
}

absl::Status Drive::Move(std::string_view user, std::string_view from, std::string_view to,
                         bool overwrite) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  auto src_parts = SplitPath(from);
  if (!src_parts.ok()) return src_parts.status();
  auto dst_parts = SplitPath(to);
  if (!dst_parts.ok()) return dst_parts.status();
  if (src_parts->empty() || dst_parts->empty()) {
    return absl::FailedPreconditionError("the root folder cannot be moved or replaced");
  }
  std::string u(user);
  auto src = Locate(u, *src_parts);
  if (!src.ok()) return src.status();
  if (!src->raw)
    return absl::NotFoundError(absl::StrCat("no such file or folder: ", std::string(from)));
  if (*src_parts == *dst_parts) return absl::OkStatus();
  auto after = TellMoveHook(u, JoinPath(*src_parts), JoinPath(*dst_parts));
  if (!after.ok()) return after.status();
  bool known = true;
  absl::Status s = MoveLocated(u, *src, *src_parts, *dst_parts, std::string(to), overwrite, &known);
  if (*after && known) (*after)(s.ok());
  return s;
}

absl::StatusOr<AfterMove> Drive::TellMoveHook(const std::string& user, const std::string& from,
                                              const std::string& to) {
  MoveHook hook;
  {
    std::lock_guard lock(hook_mu_);
    hook = move_hook_;
  }
  if (!hook) return AfterMove();
  return hook(user, from, to);
}

void Drive::SetMoveHook(MoveHook hook) {
  std::lock_guard lock(hook_mu_);
  move_hook_ = std::move(hook);
}

absl::Status Drive::MoveLocated(const std::string& u, const Located& src,
                                const std::vector<std::string>& src_parts,
                                const std::vector<std::string>& dst_parts, const std::string& to,
                                bool overwrite, bool* known) {
  auto dst = ClearDestination(u, src, dst_parts, to, overwrite, "moved");
  if (!dst.ok()) return dst.status();
  std::string dst_row = keys::TreeRow(u, dst->parent_id);
  // Indexed at the new path before the entry lands there, and dropped from the old one only
  // once it left: a crash in between leaves cells that search drops, never a missing one.
  IndexTree(u, JoinPath(dst_parts), src.entry, /*add=*/true);
  auto put = kvs_->CPut(dst_row, dst->name, std::nullopt, *src.raw);
  if (!put.ok()) {
    *known = false;
    return put.status();
  }
  if (!*put) return absl::AlreadyExistsError(absl::StrCat("already exists: ", to));
  // The source goes only if it still holds what we copied (compare-and-delete): an upload
  // that replaced it meanwhile keeps its new version there.
  std::string src_row = keys::TreeRow(u, src.parent_id);
  auto moved = kvs_->CDelete(src_row, src.name, *src.raw);
  if (!moved.ok()) {
    // Unknown outcome: a source that is gone was moved; one still there was not.
    auto now = GetOptional(kvs_, src_row, src.name);
    if (!now.ok()) {
      *known = false;
      return moved.status();
    }
    moved = !now->has_value();
  }
  if (*moved) {
    IndexTree(u, JoinPath(src_parts), src.entry, /*add=*/false);
    ScheduleCollection(u);
    return absl::OkStatus();
  }
  // The source changed under us (replaced or moved by someone else): undo our half,
  // unless that too was replaced meanwhile.
  if (auto undone = kvs_->CDelete(dst_row, dst->name, *src.raw); !undone.ok()) {
    *known = false;
    return undone.status();
  }
  return absl::AbortedError("source changed during the move; try again");
}

absl::Status Drive::Copy(std::string_view user, std::string_view from, std::string_view to,
                         bool overwrite) {
  return CopyBetween(user, from, user, to, overwrite);
}

absl::Status Drive::CopyBetween(std::string_view from_user, std::string_view from,
                                std::string_view to_user, std::string_view to, bool overwrite) {
  if (auto s = ValidateUser(from_user); !s.ok()) return s;
  if (auto s = ValidateUser(to_user); !s.ok()) return s;
  auto src_parts = SplitPath(from);
  if (!src_parts.ok()) return src_parts.status();
  auto dst_parts = SplitPath(to);
  if (!dst_parts.ok()) return dst_parts.status();
  if (dst_parts->empty())
    return absl::FailedPreconditionError("the root folder cannot be replaced");
  std::string source_user(from_user);
  std::string target_user(to_user);
  auto src = Locate(source_user, *src_parts);
  if (!src.ok()) return src.status();
  if (!src->is_root && !src->raw) {
    return absl::NotFoundError(absl::StrCat("no such file or folder: ", std::string(from)));
  }
  if (source_user == target_user && *src_parts == *dst_parts) {
    return absl::FailedPreconditionError("source and destination are the same");
  }
  auto dst = ClearDestination(target_user, *src, *dst_parts, std::string(to), overwrite, "copied");
  if (!dst.ok()) return dst.status();
  auto s = CopyLocated(source_user, *src, target_user, *dst_parts, 0);
  ScheduleCollection(target_user);
  return s;
}

absl::Status Drive::CopyLocated(const std::string& from_user, const Located& from,
                                const std::string& to_user, const std::vector<std::string>& to,
                                int depth, const std::string& new_id, const CopyPace& pace) {
  if (depth > kMaxRecursion) return absl::FailedPreconditionError("folders nested too deep");
  std::string to_path = JoinPath(to);
  if (!IsFolder(from.entry)) {
    UploadOptions opts;
    opts.content_type = from.entry.content_type();
    opts.if_none_match = true;
    opts.new_file_id = new_id;
    auto upload = BeginUpload(to_user, to_path, opts);
    if (!upload.ok()) return upload.status();
    (*upload)->dead_props_ = std::map<std::string, std::string>(from.entry.dead_props().begin(),
                                                                from.entry.dead_props().end());
    Reader reader(kvs_, from_user, ToInfo(from.name, from.entry), from.entry.version(),
                  from.entry.chunk_bytes(), 0, from.entry.size());
    for (uint64_t pieces = 0; pieces <= from.entry.size(); ++pieces) {
      auto piece = reader.Next();
      if (!piece.ok()) return piece.status();
      if (piece->empty()) break;
      if (auto s = (*upload)->Append(*piece); !s.ok()) return s;
      if (auto s = pace ? pace() : absl::OkStatus(); !s.ok()) return s;
    }
    return (*upload)->Commit().status();
  }
  if (auto s = CreateFolder(to_user, to_path); !s.ok()) return s;
  if (from.entry.dead_props_size() > 0) {
    PropertyPatch patch;
    for (const auto& [k, v] : from.entry.dead_props()) patch.emplace_back(k, v);
    if (auto s = PatchProperties(to_user, to_path, patch); !s.ok()) return s;
  }
  return ForEachChild(from_user, from.entry.folder_id(), [&](const Located& child) {
    std::vector<std::string> child_to = to;
    child_to.push_back(child.name);
    if (auto s = pace ? pace() : absl::OkStatus(); !s.ok()) return s;
    return CopyLocated(from_user, child, to_user, child_to, depth + 1, "", pace);
  });
}

absl::Status Drive::PatchProperties(std::string_view user, std::string_view path,
                                    const PropertyPatch& patch) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  auto parts = SplitPath(path);
  if (!parts.ok()) return parts.status();
  if (parts->empty()) return absl::FailedPreconditionError("the root folder has no properties");
  std::string u(user);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto at = Locate(u, *parts);
    if (!at.ok()) return at.status();
    if (!at->raw)
      return absl::NotFoundError(absl::StrCat("no such file or folder: ", std::string(path)));
    pb::Entry entry = at->entry;
    for (const auto& [name, value] : patch) {
      if (value) {
        (*entry.mutable_dead_props())[name] = *value;
      } else {
        entry.mutable_dead_props()->erase(name);
      }
    }
    auto done =
        kvs_->CPut(keys::TreeRow(u, at->parent_id), at->name, *at->raw, SerializeEntry(entry));
    if (!done.ok()) return done.status();
    if (*done) return absl::OkStatus();
  }
  return absl::AbortedError("too many concurrent changes; try again");
}

absl::StatusOr<uint64_t> Drive::QuotaOf(const std::string& user) {
  auto raw = GetOptional(kvs_, keys::StateRow(user), keys::kQuotaColumn);
  if (!raw.ok()) return raw.status();
  uint64_t quota = options_.default_quota_bytes;
  if (*raw && !absl::SimpleAtoi(**raw, &quota)) return absl::DataLossError("corrupt quota");
  return quota;
}

absl::StatusOr<Usage> Drive::GetUsage(std::string_view user) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  // The quota, the counter and the reservations are cells of one row: one listing reads
  // them all at once (a second page only for a user with many uploads in progress).
  Usage usage;
  usage.quota_bytes = options_.default_quota_bytes;
  uint64_t counted = 0;
  kvs::ListOptions list{.after = "", .limit = 128, .with_values = true};
  for (;;) {
    auto page = kvs_->List(keys::StateRow(user), list);
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      if (cell.column == keys::kQuotaColumn && !absl::SimpleAtoi(cell.value, &usage.quota_bytes)) {
        return absl::DataLossError("corrupt quota");
      }
      if (cell.column == keys::kUsedColumn && !absl::SimpleAtoi(cell.value, &counted)) {
        return absl::DataLossError("corrupt usage counter");
      }
      uint64_t reserved = 0;
      if (cell.column.starts_with(keys::kReservedPrefix)) {
        if (!absl::SimpleAtoi(cell.value, &reserved))
          return absl::DataLossError("corrupt reservation");
        usage.reserved_bytes += reserved;
        ++usage.reservations;
      }
    }
    if (!page->more || page->cells.empty()) break;
    list.after = page->cells.back().column;
  }
  usage.used_bytes = counted + usage.reserved_bytes;
  return usage;
}

absl::Status Drive::SetQuota(std::string_view user, uint64_t quota_bytes) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  return kvs_->Put(keys::StateRow(user), keys::kQuotaColumn, absl::StrCat(quota_bytes));
}

absl::Status Drive::ChargeUsage(const std::string& user, int64_t delta) {
  if (delta == 0) return absl::OkStatus();
  std::string row = keys::StateRow(user);
  for (int attempt = 0; attempt < kMaxAttempts * 4; ++attempt) {
    auto raw = GetOptional(kvs_, row, keys::kUsedColumn);
    if (!raw.ok()) return raw.status();
    uint64_t used = 0;
    if (*raw && !absl::SimpleAtoi(**raw, &used)) used = 0;
    int64_t next = static_cast<int64_t>(used) + delta;
    std::optional<std::string_view> expected;
    if (*raw) expected = **raw;
    auto done =
        kvs_->CPut(row, keys::kUsedColumn, expected, absl::StrCat(std::max<int64_t>(next, 0)));
    if (!done.ok()) return done.status();
    if (*done) return absl::OkStatus();
  }
  PC_LOG(kWarn, "drive.usage_contended")("user", user)("delta", delta);
  return absl::AbortedError("usage counter too contended");
}

}  // namespace penncloud::drive
