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
// in /api/files; drive_api.cc and preview_api.cc hand those paths to the functions below
// (share_api_incoming.cc). Inside a "write" share its recipient may upload, make folders,
// move (within one owner's shares) and delete (into the owner's trash); the shared item
// itself is the owner's to rename, move or delete (403).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "drive/share.h"
#include "frontend/api_context.h"

namespace penncloud::frontend {

inline constexpr std::string_view kSharedWithMe = "/Shared with me";

void RegisterShareRoutes(Router& router, const ApiContext& ctx);

// The one Shares of this process over ctx.store.
std::shared_ptr<drive::Shares> SharedShares(const ApiContext& ctx);

// A listing's entry as the sharing routes show it: {"name","type","size","modified",
// "modified_ms"} (+ "content_type"), no version ids.
nlohmann::json SharedEntryJson(const drive::EntryInfo& e);

// "/Shared with me/<owner>/<name>": where a share with an account appears to its recipient.
std::string SharedWithMeRoot(const drive::Share& share);

// Whether a path of the drive API is in the "Shared with me" view.
bool InSharedWithMe(std::string_view path);
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
// POST /api/files/folder, DELETE /api/files and POST /api/files/move ("write" only; a move
// needs both ends in one owner's shares).
Response CreateFolderSharedWithMe(const ApiContext& ctx, const std::string& user,
                                  const std::string& path);
Response DeleteSharedWithMe(const ApiContext& ctx, const std::string& user,
                            const std::string& path);
Response MoveSharedWithMe(const ApiContext& ctx, const std::string& user, const std::string& from,
                          const std::string& to, bool overwrite);

}  // namespace penncloud::frontend
