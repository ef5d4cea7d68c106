// The drive part of the JSON API (DESIGN.md), over drive::Drive:
//   GET    /api/files?path=/dir              listing {"path","entries":[...],"usage":{...}}
//   GET    /api/files/content?path=/f        download: streamed, Range, ETag, If-None-Match,
//                                            If-Match, Content-Disposition (attachment, or
//                                            inline with &inline=1 for harmless types)
//   PUT    /api/files/content?path=/f        upload: the body is the bytes, streamed;
//                                            If-Match / If-None-Match: * make it conditional
//   POST   /api/files/folder  {"path"}       new folder
//   POST   /api/files/move    {"from","to","overwrite"?}   rename / move
//   POST   /api/files/copy    {"from","to","overwrite"?}
//   DELETE /api/files?path=/x                file, or folder with everything inside
//   GET    /api/trash, POST /api/trash/restore {"id"}, DELETE /api/trash/{id}, DELETE /api/trash
//   GET    /api/files/versions?path=, POST /api/files/versions/restore {"path","id"},
//          GET /api/files/content?path=&version=ID
//   GET    /api/files/search?q=&limit=           (drive_api_recover.cc)
// Every route needs the session cookie (and X-CSRF-Token when it changes state); the user's
// name comes only from the session, so no path or id can reach another user's files.
//
// The helpers below are shared with WebDAV (frontend/webdav.cc), which serves the same
// files over GET/PUT with Basic auth.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "drive/drive.h"
#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterDriveRoutes(Router& router, const ApiContext& ctx);
// The trash, versions and name search routes (drive_api_recover.cc).
void RegisterDriveRecoveryRoutes(Router& router, const ApiContext& ctx,
                                 std::shared_ptr<drive::Drive> drive);

// "2026-11-24T17:26:04.123Z".
std::string IsoTimeMs(int64_t unix_ms);
// A listing's entry: {"name","type","size","modified","modified_ms"} (+ content_type, etag).
nlohmann::json EntryJson(const drive::EntryInfo& e);

// The one Drive of this process over ctx.store (created on first use; it runs the
// background collector of replaced and abandoned contents). The flags --drive_trash_days,
// --drive_versions and --drive_version_days (config [frontend]) set its retention. For process
// tests only, the environment variables PENNCLOUD_DRIVE_PENDING_TIMEOUT_MS and
// PENNCLOUD_DRIVE_GARBAGE_GRACE_MS shorten the collector's timeouts.
std::shared_ptr<drive::Drive> SharedDrive(const ApiContext& ctx);

// Largest upload a streamed route accepts at the HTTP level; the quota is the real bound.
inline constexpr uint64_t kMaxUploadBytes = uint64_t{1} << 40;

// "Tue, 24 Nov 2026 17:26:04 GMT" (RFC 9110 IMF-fixdate).
std::string HttpDate(int64_t unix_ms);
// The ETag header value of a file: the quoted version id.
std::string QuotedEtag(std::string_view etag);

// A single "bytes=" range resolved against `size`: [begin, end). nullopt if the header is
// absent, not a byte range, or several ranges (served whole, as RFC 9110 allows).
// `*unsatisfiable` is set when it is a valid range that misses the file entirely.
struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = 0;
};
std::optional<ByteRange> ParseRange(std::string_view header, uint64_t size, bool* unsatisfiable);

// Whether a stored file of this Content-Type may be shown inline: only types a browser
// cannot run script from (never SVG or other XML, whatever parameters follow); everything
// else is always downloaded.
bool SafeInline(std::string_view content_type);

// Serves GET/HEAD of a file: 200, 206 with Content-Range, 304 for If-None-Match, 412 for
// If-Match, 416 for a range past the end. The body streams chunk by chunk.
// `attachment` chooses Content-Disposition; inline only for types that cannot run script.
Response ServeFileContent(drive::Drive& drive, const std::string& user, const std::string& path,
                          const Request& request, bool attachment);

// The same for a reader already opened (an older version, say).
Response ServeReader(absl::StatusOr<std::unique_ptr<drive::Reader>> opened, const Request& request,
                     bool attachment);

// Receives a streamed body into `path` (If-Match / If-None-Match honoured). On success
// returns the new entry and whether the file was created (false: replaced).
struct Received {
  drive::EntryInfo entry;
  bool created = false;
};
absl::StatusOr<Received> ReceiveFileContent(drive::Drive& drive, const std::string& user,
                                            const std::string& path, Request& request);

// FromStatus with the drive's extra meanings: 412 for failed conditions, 507 for quota.
Response DriveError(const absl::Status& status);

}  // namespace penncloud::frontend
