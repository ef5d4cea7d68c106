// "Shared with me": what a recipient does with another account's shares, every path
// resolved through drive::Shares::ResolveIncoming (which checks the share on every request)
// to the owner's drive.
#include <set>

#include "absl/strings/str_cat.h"
#include "drive/path.h"
#include "frontend/drive_api.h"
#include "frontend/preview_api.h"
#include "frontend/share_api.h"

namespace penncloud::frontend {
namespace {

nlohmann::json VirtualFolder(const std::string& name) {
  return {{"name", name},
          {"type", "folder"},
          {"size", 0},
          {"modified", IsoTimeMs(0)},
          {"modified_ms", 0}};
}

absl::StatusOr<drive::SharedPath> Resolve(const ApiContext& ctx, const std::string& user,
                                          const std::string& path, bool write) {
  return SharedShares(ctx)->ResolveIncoming(user, path.substr(kSharedWithMe.size()), write);
}

// A write share lets its recipient change what is inside it; the shared item itself (its
// name, its place, whether it exists) stays its owner's.
absl::StatusOr<drive::SharedPath> ResolveInside(const ApiContext& ctx, const std::string& user,
                                                const std::string& path) {
  auto at = Resolve(ctx, user, path, true);
  if (at.ok() && at->owner_path == at->share.path) {
    return absl::PermissionDeniedError("the shared item itself is its owner's to change");
  }
  return at;
}

// The share as its recipient names it.
drive::ShareView Seen(const drive::Share& share) { return {&share, SharedWithMeRoot(share)}; }

// A drive error on the owner's side, naming only paths the recipient knows.
Response SharedError(const drive::SharedPath& at, const absl::Status& status) {
  return DriveError(drive::AsSeenThroughShare(status, {Seen(at.share)}));
}

}  // namespace

Response ListSharedWithMe(const ApiContext& ctx, const std::string& user, const std::string& path) {
  auto shares = SharedShares(ctx);
  auto parts = drive::SplitPath(path.substr(kSharedWithMe.size()));
  if (!parts.ok()) return FromStatus(parts.status());
  nlohmann::json entries = nlohmann::json::array();
  nlohmann::json body = {{"path", path}, {"shared", true}};
  if (parts->size() < 2) {
    auto incoming = shares->ListIncoming(user);
    if (!incoming.ok()) return DriveError(incoming.status());
    std::set<std::string> names;
    for (const auto& s : *incoming) {
      if (parts->empty())
        names.insert(s.owner);
      else if (s.owner == (*parts)[0])
        names.insert(s.name);
    }
    if (parts->size() == 1 && names.empty()) return ErrorResponse(404, "nothing shared by them");
    auto drive = SharedDrive(ctx);
    for (const auto& name : names) {
      if (parts->empty()) {
        entries.push_back(VirtualFolder(name));
        continue;
      }
      auto at = shares->ResolveIncoming(user, absl::StrCat("/", (*parts)[0], "/", name), false);
      auto info = at.ok() ? drive->Stat(at->share.owner, at->owner_path)
                          : absl::StatusOr<drive::EntryInfo>(at.status());
      if (!info.ok()) continue;
      nlohmann::json entry = SharedEntryJson(*info);
      entry["name"] = name;  // as shared, whatever the owner has renamed it to since
      entries.push_back(std::move(entry));
    }
  } else {
    auto at = Resolve(ctx, user, path, false);
    if (!at.ok()) return DriveError(at.status());
    auto list = SharedDrive(ctx)->List(at->share.owner, at->owner_path);
    if (!list.ok()) return SharedError(*at, list.status());
    for (const auto& e : *list) entries.push_back(SharedEntryJson(e));
    // What the page may offer here: "write" adds uploads, new folders, moves and deletes.
    body["permission"] = std::string(drive::PermissionName(at->share.permission));
  }
  body["entries"] = std::move(entries);
  return JsonResponse(200, body);
}

Response ServeSharedWithMe(const ApiContext& ctx, const std::string& user, const std::string& path,
                           const Request& request, bool attachment) {
  auto at = Resolve(ctx, user, path, false);
  if (!at.ok()) return DriveError(at.status());
  auto opened = SharedDrive(ctx)->Open(at->share.owner, at->owner_path);
  if (!opened.ok()) return SharedError(*at, opened.status());
  return ServeReader(std::move(opened), request, attachment);
}

Response ThumbnailSharedWithMe(const ApiContext& ctx, const std::string& user,
                               const std::string& path, const Request& request) {
  auto at = Resolve(ctx, user, path, false);
  if (!at.ok()) return DriveError(at.status());
  // Checked here too, so that a missing file's error names the recipient's path.
  if (auto info = SharedDrive(ctx)->Stat(at->share.owner, at->owner_path); !info.ok()) {
    return SharedError(*at, info.status());
  }
  return ThumbnailOf(ctx, request, at->share.owner, at->owner_path);
}

Response ReceiveSharedWithMe(const ApiContext& ctx, const std::string& user,
                             const std::string& path, Request& request) {
  auto at = Resolve(ctx, user, path, true);
  if (!at.ok()) return DriveError(at.status());
  auto received = ReceiveFileContent(*SharedDrive(ctx), at->share.owner, at->owner_path, request);
  if (!received.ok()) return SharedError(*at, received.status());
  Response res = JsonResponse(received->created ? 201 : 200, SharedEntryJson(received->entry));
  res.headers.Set("ETag", QuotedEtag(received->entry.etag));
  return res;
}

Response CreateFolderSharedWithMe(const ApiContext& ctx, const std::string& user,
                                  const std::string& path) {
  auto at = ResolveInside(ctx, user, path);
  if (!at.ok()) return DriveError(at.status());
  auto drive = SharedDrive(ctx);
  if (auto s = drive->CreateFolder(at->share.owner, at->owner_path); !s.ok()) {
    return SharedError(*at, s);
  }
  auto info = drive->Stat(at->share.owner, at->owner_path);
  if (!info.ok()) return SharedError(*at, info.status());
  return JsonResponse(201, SharedEntryJson(*info));
}

Response DeleteSharedWithMe(const ApiContext& ctx, const std::string& user,
                            const std::string& path) {
  auto at = ResolveInside(ctx, user, path);
  if (!at.ok()) return DriveError(at.status());
  // Into the owner's trash, where the owner can get it back.
  if (auto s = SharedDrive(ctx)->Delete(at->share.owner, at->owner_path); !s.ok()) {
    return SharedError(*at, s);
  }
  return JsonResponse(200, nlohmann::json::object());
}

Response MoveSharedWithMe(const ApiContext& ctx, const std::string& user, const std::string& from,
                          const std::string& to, bool overwrite) {
  if (!InSharedWithMe(from) || !InSharedWithMe(to)) {
    return ErrorResponse(400, "items move within your drive or within one person's shares");
  }
  auto source = ResolveInside(ctx, user, from);
  if (!source.ok()) return DriveError(source.status());
  auto target = ResolveInside(ctx, user, to);
  if (!target.ok()) return DriveError(target.status());
  if (source->share.owner != target->share.owner) {
    return ErrorResponse(400, "items move within your drive or within one person's shares");
  }
  const std::string& owner = source->share.owner;
  auto drive = SharedDrive(ctx);
  if (auto s = drive->Move(owner, source->owner_path, target->owner_path, overwrite); !s.ok()) {
    return DriveError(drive::AsSeenThroughShare(s, {Seen(source->share), Seen(target->share)}));
  }
  auto info = drive->Stat(owner, target->owner_path);
  if (!info.ok()) return SharedError(*target, info.status());
  return JsonResponse(200, SharedEntryJson(*info));
}

}  // namespace penncloud::frontend
