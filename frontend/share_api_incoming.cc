// "Shared with me" in the JSON API: what a recipient does with another account's shares,
// every path resolved by ResolvePlace (share_api_places.cc), which checks the share on every
// request, to the owner's drive.
#include "frontend/drive_api.h"
#include "frontend/preview_api.h"
#include "frontend/share_api.h"

namespace penncloud::frontend {
namespace {

// A share's entry without version ids; an entry of the user's own drive in full.
nlohmann::json PlaceEntryJson(const DrivePlace& place, const drive::EntryInfo& e) {
  return place.share ? SharedEntryJson(e) : EntryJson(e);
}

}  // namespace

Response ListSharedWithMe(const ApiContext& ctx, const std::string& user, const std::string& path) {
  nlohmann::json entries = nlohmann::json::array();
  nlohmann::json body = {{"path", path}, {"shared", true}};
  if (IsShareIndex(path)) {
    auto index = ListShareIndex(ctx, user, path);
    if (!index.ok()) return DriveError(index.status());
    for (const auto& e : *index) entries.push_back(SharedEntryJson(e));
  } else {
    auto at = ResolvePlace(ctx, user, path, PlaceUse::kRead);
    if (!at.ok()) return DriveError(at.status());
    auto list = SharedDrive(ctx)->List(at->owner, at->path);
    if (!list.ok()) return DriveError(at->Seen(list.status()));
    for (const auto& e : *list) entries.push_back(SharedEntryJson(e));
    // What the page may offer here: "write" adds uploads, new folders, moves and deletes.
    body["permission"] = std::string(drive::PermissionName(at->share->permission));
  }
  body["entries"] = std::move(entries);
  return JsonResponse(200, body);
}

Response ServeSharedWithMe(const ApiContext& ctx, const std::string& user, const std::string& path,
                           const Request& request, bool attachment) {
  auto at = ResolvePlace(ctx, user, path, PlaceUse::kRead);
  if (!at.ok()) return DriveError(at.status());
  auto opened = SharedDrive(ctx)->Open(at->owner, at->path);
  if (!opened.ok()) return DriveError(at->Seen(opened.status()));
  return ServeReader(std::move(opened), request, attachment);
}

Response ThumbnailSharedWithMe(const ApiContext& ctx, const std::string& user,
                               const std::string& path, const Request& request) {
  auto at = ResolvePlace(ctx, user, path, PlaceUse::kRead);
  if (!at.ok()) return DriveError(at.status());
  // Checked here too, so that a missing file's error names the recipient's path.
  if (auto info = StatPlace(*SharedDrive(ctx), *at); !info.ok()) return DriveError(info.status());
  return ThumbnailOf(ctx, request, at->owner, at->path);
}

Response ReceiveSharedWithMe(const ApiContext& ctx, const std::string& user,
                             const std::string& path, Request& request) {
  auto at = ResolvePlace(ctx, user, path, PlaceUse::kWrite);
  if (!at.ok()) return DriveError(at.status());
  auto received = ReceiveFileContent(*SharedDrive(ctx), at->owner, at->path, request);
  if (!received.ok()) return DriveError(at->Seen(received.status()));
  Response res = JsonResponse(received->created ? 201 : 200, SharedEntryJson(received->entry));
  res.headers.Set("ETag", QuotedEtag(received->entry.etag));
  return res;
}

Response CreateFolderSharedWithMe(const ApiContext& ctx, const std::string& user,
                                  const std::string& path) {
  auto at = ResolvePlace(ctx, user, path, PlaceUse::kChange);
  if (!at.ok()) return DriveError(at.status());
  auto drive = SharedDrive(ctx);
  if (auto s = drive->CreateFolder(at->owner, at->path); !s.ok()) {
    return DriveError(at->Seen(s));
  }
  auto info = StatPlace(*drive, *at);
  if (!info.ok()) return DriveError(info.status());
  return JsonResponse(201, SharedEntryJson(*info));
}

Response DeleteSharedWithMe(const ApiContext& ctx, const std::string& user,
                            const std::string& path) {
  auto at = ResolvePlace(ctx, user, path, PlaceUse::kChange);
  if (!at.ok()) return DriveError(at.status());
  // Into the owner's trash, where the owner can get it back.
  if (auto s = SharedDrive(ctx)->Delete(at->owner, at->path); !s.ok()) {
    return DriveError(at->Seen(s));
  }
  return JsonResponse(200, nlohmann::json::object());
}

Response TransferSharedWithMe(const ApiContext& ctx, const std::string& user,
                              const std::string& from, const std::string& to, bool overwrite,
                              bool move) {
  auto source = ResolvePlace(ctx, user, from, move ? PlaceUse::kChange : PlaceUse::kRead);
  if (!source.ok()) return DriveError(source.status());
  auto target = ResolvePlace(ctx, user, to, PlaceUse::kChange);
  if (!target.ok()) return DriveError(target.status());
  auto drive = SharedDrive(ctx);
  absl::Status done = move ? MovePlace(ctx, *source, *target, overwrite)
                           : CopyPlace(*drive, *source, *target, overwrite);
  if (!done.ok()) return DriveError(done);
  auto info = StatPlace(*drive, *target);
  if (!info.ok()) return DriveError(info.status());
  return JsonResponse(200, PlaceEntryJson(*target, *info));
}

}  // namespace penncloud::frontend
