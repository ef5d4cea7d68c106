// Sharing in the JSON API (DESIGN.md wave 2; docs/drive-sharing.md), over drive::Shares:
//   POST   /api/shares {"path","permission":"read"|"upload","password"?,"expires"?}
//                      -> 201 {"id","token","url"}                     a public link
//   POST   /api/shares {"path","user","permission":"read"|"write"}  -> 201 {"id","user"}
//   GET    /api/shares              mine: {"shares":[{"id","kind","path","permission",...}]}
//   GET    /api/shares/incoming     shared with me: {"shares":[{"id","owner","name","path",...}]}
//   DELETE /api/shares/{id}         revoke, effective at once
//   GET    /api/files/zip?path=     a folder (or file) of my drive, or of "Shared with me", as
//                                   a streamed zip
// The public side, no account (Referrer-Policy: no-referrer, so the token never leaks):
//   GET  /s/{token}                 the page (web/share.html)
//   GET  /s/{token}/info            {"name","type","permission","password","unlocked"}
//   POST /s/{token}/unlock {"password"}   sets a grant cookie for this link
//   GET  /s/{token}/files?path=     listing shape          (read links)
//   GET  /s/{token}/content?path=   download, with Range   (read links)
//   GET  /s/{token}/zip?path=       streamed zip           (read links)
//   GET  /s/{token}/thumbnail?path=&size=   an image's thumbnail, as /api/files/thumbnail
//   PUT  /s/{token}/upload?name=    body = the file's bytes (upload links; never replaces:
//                                   a taken name gets " (2)", " (3)", ... before the extension)
// A password-protected link answers 401 unless the request has X-Share-Password or the
// grant cookie; wrong passwords and unknown tokens are rate-limited (share_api_access.h).
//
// "Shared with me": another account's shares appear under /Shared with me/<owner>/<name>
// in /api/files and in WebDAV; drive_api.cc, preview_api.cc and webdav.cc resolve those
// paths with ResolvePlace (share_api_places.cc) or hand them to the functions below
// (share_api_incoming.cc). Inside a "write" share its recipient may upload, make folders,
// move, copy and delete (into the owner's trash); the shared item itself is the owner's to
// rename, move or delete (403).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drive/cross_move.h"
#include "drive/share.h"
#include "frontend/api_context.h"

namespace penncloud::frontend {

inline constexpr std::string_view kSharedWithMe = "/Shared with me";

void RegisterShareRoutes(Router& router, const ApiContext& ctx);

// The one Shares of this process over ctx.store.
std::shared_ptr<drive::Shares> SharedShares(const ApiContext& ctx);
// The one CrossDriveMoves of this process over ctx.store (its sweep finishes the moves of
// frontends that died).
std::shared_ptr<drive::CrossDriveMoves> SharedMoves(const ApiContext& ctx);

// A listing's entry as the sharing routes show it: {"name","type","size","modified",
// "modified_ms"} (+ "content_type"), no version ids.
nlohmann::json SharedEntryJson(const drive::EntryInfo& e);

// "/Shared with me/<owner>/<name>": where a share with an account appears to its recipient.
std::string SharedWithMeRoot(const drive::Share& share);

// Whether a path of the drive API is in the "Shared with me" view.
bool InSharedWithMe(std::string_view path);

// "/Shared with me" and "/Shared with me/<owner>": folders made of the user's incoming
// shares, stored nowhere. Their entries are the owners (as empty folders), or one owner's
// shares under the names they were shared by (kNotFound if that owner shares nothing).
bool IsShareIndex(std::string_view path);
absl::StatusOr<std::vector<drive::EntryInfo>> ListShareIndex(const ApiContext& ctx,
                                                             const std::string& user,
                                                             const std::string& path);

// A path of a user's view of the drive, resolved to where it is stored: their own drive,
// or under "Shared with me" its owner's, through a share read again on every call.
struct DrivePlace {
  std::string owner;                  // whose drive holds it
  std::string path;                   // in that drive
  std::optional<drive::Share> share;  // set when reached through a share

  // A drive error at this place, naming only paths its viewer may see.
  absl::Status Seen(const absl::Status& status) const;
};

// What the caller means to do at a place. Only shares restrict it.
enum class PlaceUse {
  kRead,    // list, download, read properties, copy from
  kWrite,   // write a file's content: "write" shares only (403 otherwise)
  kChange,  // create, delete, move away or onto, copy onto, change properties: also
            // "write" shares only, and never the shared item itself (its owner's to change)
};
// A drive error of one operation over several places (a copy, a zip of several items).
// With a share among them, a path in the message may be the owner's, so it is shown only as
// seen through one of the shares, or dropped, even if it was the user's own.
absl::Status SeenFrom(const absl::Status& status, const std::vector<const DrivePlace*>& places);

absl::StatusOr<DrivePlace> ResolvePlace(const ApiContext& ctx, const std::string& user,
                                        const std::string& path, PlaceUse use);

// The entry at a place as its viewer sees it: a shared item under the name it was shared
// by. Errors already Seen.
absl::StatusOr<drive::EntryInfo> StatPlace(drive::Drive& drive, const DrivePlace& place);

// Copy and move between places (resolved with kRead / kChange for the source, kChange for
// the destination). Within one drive they are Drive::Copy and Drive::Move, so shares follow
// a move. Across drives (a share and the user's own drive, or two owners' shares) the
// bytes are copied into the destination's drive, charged to its owner's quota; a move is a
// drive::CrossDriveMoves: whole or not at all, even across a crash, the moved items' shares
// handed to the new owner and the source in its owner's trash. Errors are already Seen
// from both places.
absl::Status CopyPlace(drive::Drive& drive, const DrivePlace& from, const DrivePlace& to,
                       bool overwrite);
absl::Status MovePlace(const ApiContext& ctx, const DrivePlace& from, const DrivePlace& to,
                       bool overwrite);
// GET /api/files for such a path: the owners, one owner's shares, or a shared folder (with
// the share's "permission").
Response ListSharedWithMe(const ApiContext& ctx, const std::string& user, const std::string& path);
// GET /api/files/content for such a path.
Response ServeSharedWithMe(const ApiContext& ctx, const std::string& user, const std::string& path,
                           const Request& request, bool attachment);
// GET /api/files/thumbnail for such a path.
Response ThumbnailSharedWithMe(const ApiContext& ctx, const std::string& user,
                               const std::string& path, const Request& request);
// PUT /api/files/content for such a path (shares with "write" only).
Response ReceiveSharedWithMe(const ApiContext& ctx, const std::string& user,
                             const std::string& path, Request& request);
// POST /api/files/folder and DELETE /api/files ("write" only).
Response CreateFolderSharedWithMe(const ApiContext& ctx, const std::string& user,
                                  const std::string& path);
Response DeleteSharedWithMe(const ApiContext& ctx, const std::string& user,
                            const std::string& path);
// POST /api/files/move and /api/files/copy when either end is in "Shared with me": the
// other end may be the user's own drive or another share (see CopyPlace).
Response TransferSharedWithMe(const ApiContext& ctx, const std::string& user,
                              const std::string& from, const std::string& to, bool overwrite,
                              bool move);

}  // namespace penncloud::frontend
