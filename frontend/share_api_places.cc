// Where a path of a user's drive view is stored, and copies and moves between such places:
// the one resolver behind "Shared with me" in the JSON API and in WebDAV.
#include <set>

#include "absl/strings/str_cat.h"
#include "drive/path.h"
#include "frontend/drive_api.h"
#include "frontend/share_api.h"

namespace penncloud::frontend {
namespace {

constexpr std::string_view kIndexReadOnly = "Shared with me holds only what others share with you";

}  // namespace

bool IsShareIndex(std::string_view path) {
  if (!InSharedWithMe(path)) return false;
  auto parts = drive::SplitPath(path.substr(kSharedWithMe.size()));
  return parts.ok() && parts->size() < 2;
}

absl::StatusOr<std::vector<drive::EntryInfo>> ListShareIndex(const ApiContext& ctx,
                                                             const std::string& user,
                                                             const std::string& path) {
  auto parts = drive::SplitPath(std::string_view(path).substr(kSharedWithMe.size()));
  if (!parts.ok()) return parts.status();
  auto shares = SharedShares(ctx);
  auto incoming = shares->ListIncoming(user);
  if (!incoming.ok()) return incoming.status();
  std::set<std::string> names;
  for (const auto& s : *incoming) {
    if (parts->empty())
      names.insert(s.owner);
    else if (s.owner == (*parts)[0])
      names.insert(s.name);
  }
  if (parts->size() == 1 && names.empty()) return absl::NotFoundError("nothing shared by them");
  std::vector<drive::EntryInfo> entries;
  auto drive = SharedDrive(ctx);
  for (const auto& name : names) {
    if (parts->empty()) {
      drive::EntryInfo owner;
      owner.name = name;
      owner.folder = true;
      entries.push_back(std::move(owner));
      continue;
    }
    // A share whose item is gone (in the trash, say) is left out, as from its listing.
    auto at = shares->ResolveIncoming(user, absl::StrCat("/", (*parts)[0], "/", name), false);
    if (!at.ok()) continue;
    auto info = StatPlace(*drive, {at->share.owner, at->owner_path, at->share});
    if (info.ok()) entries.push_back(*std::move(info));
  }
  return entries;
}

absl::Status DrivePlace::Seen(const absl::Status& status) const { return SeenFrom(status, {this}); }

absl::Status SeenFrom(const absl::Status& status, const std::vector<const DrivePlace*>& places) {
  std::vector<drive::ShareView> views;
  for (const DrivePlace* place : places) {
    if (place->share) views.push_back({&*place->share, SharedWithMeRoot(*place->share)});
  }
  return views.empty() ? status : drive::AsSeenThroughShare(status, views);
}

absl::StatusOr<DrivePlace> ResolvePlace(const ApiContext& ctx, const std::string& user,
                                        const std::string& path, PlaceUse use) {
  if (!InSharedWithMe(path)) return DrivePlace{user, path, std::nullopt};
  if (use != PlaceUse::kRead && IsShareIndex(path)) {
    return absl::PermissionDeniedError(std::string(kIndexReadOnly));
  }
  auto at = SharedShares(ctx)->ResolveIncoming(user, path.substr(kSharedWithMe.size()),
                                               use != PlaceUse::kRead);
  if (!at.ok()) return at.status();
  // A write share lets its recipient change what is inside it; the shared item itself
  // (its name, its place, whether it exists) stays its owner's.
  if (use == PlaceUse::kChange && at->owner_path == at->share.path) {
    return absl::PermissionDeniedError("the shared item itself is its owner's to change");
  }
  return DrivePlace{at->share.owner, at->owner_path, std::move(at->share)};
}

absl::StatusOr<drive::EntryInfo> StatPlace(drive::Drive& drive, const DrivePlace& place) {
  auto info = drive.Stat(place.owner, place.path);
  if (!info.ok()) return place.Seen(info.status());
  // The recipient's name for it, whatever the owner has renamed it to since.
  if (place.share && place.path == place.share->path) info->name = place.share->name;
  return info;
}

absl::Status CopyPlace(drive::Drive& drive, const DrivePlace& from, const DrivePlace& to,
                       bool overwrite) {
  if (from.owner == to.owner) {
    return SeenFrom(drive.Copy(from.owner, from.path, to.path, overwrite), {&from, &to});
  }
  // Checked on its own first, so that a missing source is named as its viewer knows it.
  if (auto info = drive.Stat(from.owner, from.path); !info.ok()) return from.Seen(info.status());
  return SeenFrom(drive.CopyBetween(from.owner, from.path, to.owner, to.path, overwrite),
                  {&from, &to});
}

absl::Status MovePlace(const ApiContext& ctx, const DrivePlace& from, const DrivePlace& to,
                       bool overwrite) {
  auto drive = SharedDrive(ctx);
  if (from.owner == to.owner) {
    return SeenFrom(drive->Move(from.owner, from.path, to.path, overwrite), {&from, &to});
  }
  // Checked on its own first, so that a missing source is named as its viewer knows it.
  if (auto info = drive->Stat(from.owner, from.path); !info.ok()) return from.Seen(info.status());
  return SeenFrom(SharedMoves(ctx)->Move(from.owner, from.path, to.owner, to.path, overwrite),
                  {&from, &to});
}

}  // namespace penncloud::frontend
