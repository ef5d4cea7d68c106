#include "frontend/drive_api.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "drive/content_type.h"
#include "frontend/preview_api.h"
#include "frontend/share_api.h"

ABSL_FLAG(int, drive_trash_days, 30,
          "days a deleted drive file stays in the trash before it is purged (0: no trash)");
ABSL_FLAG(int, drive_versions, 10, "older versions kept per drive file (0: none)");
ABSL_FLAG(int, drive_version_days, 30, "days an older version of a drive file is kept");

namespace penncloud::frontend {
namespace {

constexpr size_t kReadPiece = 1 << 20;
constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;

}  // namespace

std::string IsoTimeMs(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

nlohmann::json EntryJson(const drive::EntryInfo& e) {
  nlohmann::json j = {{"name", e.name},
                      {"type", e.folder ? "folder" : "file"},
                      {"size", e.size},
                      {"modified", IsoTimeMs(e.modified_ms)},
                      {"modified_ms", e.modified_ms}};
  if (!e.folder) {
    j["content_type"] = e.content_type;
    j["etag"] = e.etag;
  }
  return j;
}

namespace {

// The entity tags listed in an If-Match / If-None-Match header, unquoted ("*" kept).
std::vector<std::string> EtagList(std::string_view header) {
  std::vector<std::string> tags;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(header.data(), header.size()), ',')) {
    std::string tag(absl::StripAsciiWhitespace(part));
    if (tag.starts_with("W/")) tag = tag.substr(2);
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"')
      tag = tag.substr(1, tag.size() - 2);
    if (!tag.empty()) tags.push_back(tag);
  }
  return tags;
}

bool EtagMatches(std::string_view header, const std::string& etag) {
  for (const auto& tag : EtagList(header)) {
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

bool SafeInline(std::string_view content_type) {
  // Judged by the media type's essence: "image/svg+xml; charset=utf-8" and "Image/SVG+XML"
  // are SVG too (the type is the uploader's to choose).
  std::string essence(content_type.substr(0, content_type.find(';')));
  std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(essence));
  if (type.find("svg") != std::string::npos) return false;  // SVG may carry script
  if (type.find("xml") != std::string::npos) return false;  // so may any XML (XSLT, XHTML)
  return type.starts_with("image/") || type.starts_with("video/") || type.starts_with("audio/") ||
         type == "application/pdf" || type == "text/plain";
}

namespace {

std::string ContentDisposition(std::string_view name, bool attachment) {
  std::string fallback;
  for (unsigned char c : name) {
    fallback += (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') ? '_' : static_cast<char>(c);
  }
  return absl::StrCat(attachment ? "attachment" : "inline", "; filename=\"", fallback,
                      "\"; filename*=UTF-8''", PercentEncode(name));
}

bool BoolField(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

std::shared_ptr<drive::Drive> SharedDrive(const ApiContext& ctx) {
  static std::mutex mu;
  static auto* drives = new std::map<kvs::Client*, std::weak_ptr<drive::Drive>>();
  std::lock_guard lock(mu);
  auto& slot = (*drives)[ctx.store];
  if (auto drive = slot.lock()) return drive;
  drive::Options options;
  options.background_collection = true;
  options.trash_retention_ms = absl::GetFlag(FLAGS_drive_trash_days) * kDayMs;
  options.max_versions = absl::GetFlag(FLAGS_drive_versions);
  options.version_retention_ms = absl::GetFlag(FLAGS_drive_version_days) * kDayMs;
  // Test knobs: process tests shorten the timeouts to watch collection happen.
  int64_t ms = 0;
  if (const char* v = std::getenv("PENNCLOUD_DRIVE_PENDING_TIMEOUT_MS");
      v && absl::SimpleAtoi(v, &ms)) {
    options.pending_timeout_ms = ms;
  }
  if (const char* v = std::getenv("PENNCLOUD_DRIVE_GARBAGE_GRACE_MS");
      v && absl::SimpleAtoi(v, &ms)) {
    options.garbage_grace_ms = ms;
  }
  auto drive = std::make_shared<drive::Drive>(ctx.store, options);
  slot = drive;
  return drive;
}

std::string HttpDate(int64_t unix_ms) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string QuotedEtag(std::string_view etag) {
  return absl::StrCat("\"", std::string(etag), "\"");
}

std::optional<ByteRange> ParseRange(std::string_view header, uint64_t size, bool* unsatisfiable) {
  *unsatisfiable = false;
  std::string h(absl::StripAsciiWhitespace(std::string(header)));
  if (!h.starts_with("bytes=")) return std::nullopt;
  std::string spec = h.substr(6);
  if (spec.find(',') != std::string::npos) return std::nullopt;
  size_t dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  std::string first = spec.substr(0, dash), last = spec.substr(dash + 1);
  uint64_t a = 0, b = 0;
  if (first.empty()) {  // suffix: the last N bytes
    if (!absl::SimpleAtoi(last, &b) || last.empty()) return std::nullopt;
    if (b == 0) {
      *unsatisfiable = true;
      return std::nullopt;
    }
    // An empty file has no last bytes to send: served whole (found by drive_path_fuzz;
    // {0, 0} became "Content-Range: bytes 0--1/0").
    if (size == 0) return std::nullopt;
    return ByteRange{size - std::min(b, size), size};
  }
  if (!absl::SimpleAtoi(first, &a)) return std::nullopt;
  if (!last.empty() && (!absl::SimpleAtoi(last, &b) || b < a)) return std::nullopt;
  if (a >= size) {
    *unsatisfiable = true;
    return std::nullopt;
  }
  // RFC 9110 14.1.2: a last position at or past the end means the end. Compared before
  // adding one, so that 2^64-1 cannot wrap to an empty range.
  uint64_t end = last.empty() || b >= size - 1 ? size : b + 1;
  return ByteRange{a, end};
}

Response DriveError(const absl::Status& status) {
  if (drive::IsConditionFailed(status)) return ErrorResponse(412, std::string(status.message()));
  if (absl::IsResourceExhausted(status)) return ErrorResponse(507, std::string(status.message()));
  if (absl::IsAborted(status)) return ErrorResponse(409, std::string(status.message()));
  if (!absl::IsUnavailable(status) && !absl::IsDeadlineExceeded(status) &&
      HttpStatusFor(status.code()) == 500) {
    PC_LOG(kWarn, "drive.error")("error", status.ToString());
  }
  return FromStatus(status);
}

Response ServeFileContent(drive::Drive& drive, const std::string& user, const std::string& path,
                          const Request& request, bool attachment) {
  return ServeReader(drive.Open(user, path), request, attachment);
}

Response ServeReader(absl::StatusOr<std::unique_ptr<drive::Reader>> opened, const Request& request,
                     bool attachment) {
  if (!opened.ok()) return DriveError(opened.status());
  std::shared_ptr<drive::Reader> reader = std::move(*opened);
  const drive::EntryInfo& info = reader->info();
  std::string etag = QuotedEtag(info.etag);

  Response res;
  res.headers.Set("ETag", etag);
  res.headers.Set("Last-Modified", HttpDate(info.modified_ms));
  res.headers.Set("Accept-Ranges", "bytes");
  res.headers.Set("Cache-Control", "private, no-cache");
  if (request.headers.Has("If-Match") && !EtagMatches(request.headers.Get("If-Match"), info.etag)) {
    return ErrorResponse(412, "the file has changed (If-Match)");
  }
  if (request.headers.Has("If-None-Match") &&
      EtagMatches(request.headers.Get("If-None-Match"), info.etag)) {
    res.status = 304;
    return res;
  }
  // User content never runs as part of our pages: sniffing off, scripts sandboxed.
  // Inline only in the type frontend/preview_api.h chooses (text as UTF-8 plain text).
  std::optional<std::string> inline_type =
      attachment ? std::nullopt : InlineContentType(info.content_type);
  res.headers.Set("Content-Type", inline_type  ? *inline_type
                                  : attachment ? info.content_type
                                               : "application/octet-stream");
  res.headers.Set("X-Content-Type-Options", "nosniff");
  res.headers.Set("Content-Security-Policy", "sandbox");
  res.headers.Set("Content-Disposition", ContentDisposition(info.name, !inline_type));

  uint64_t size = info.size;
  bool use_range = request.headers.Has("Range");
  // If-Range: the range only applies to the version the client already has part of.
  if (use_range && request.headers.Has("If-Range")) {
    use_range = EtagMatches(request.headers.Get("If-Range"), info.etag) &&
                !EtagList(request.headers.Get("If-Range")).empty() &&
                EtagList(request.headers.Get("If-Range"))[0] != "*";
  }
  if (use_range) {
    bool unsatisfiable = false;
    auto range = ParseRange(request.headers.Get("Range"), size, &unsatisfiable);
    if (unsatisfiable) {
      Response bad = ErrorResponse(416, "range not satisfiable");
      bad.headers.Set("Content-Range", absl::StrCat("bytes */", size));
      return bad;
    }
    if (range) {
      if (auto s = reader->Restrict(range->begin, range->end); !s.ok()) return DriveError(s);
      res.status = 206;
      res.headers.Set("Content-Range",
                      absl::StrCat("bytes ", range->begin, "-", range->end - 1, "/", size));
    }
  }
  res.content_length = reader->end() - reader->begin();
  res.stream = [reader]() -> absl::StatusOr<std::optional<std::string>> {
    auto piece = reader->Next();
    if (!piece.ok()) return piece.status();
    if (piece->empty()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(*piece));
  };
  return res;
}

absl::StatusOr<Received> ReceiveFileContent(drive::Drive& drive, const std::string& user,
                                            const std::string& path, Request& request) {
  drive::UploadOptions options;
  std::string type(request.headers.Get("Content-Type"));
  if (!type.empty()) {
    // Checked before a byte is stored: the type goes back out in headers and PROPFIND.
    auto normal = drive::NormalizeContentType(type);
    if (!normal.ok()) return normal.status();
    type = *std::move(normal);
  }
  // "" lets the drive guess from the name; so do the types clients send for "unknown".
  if (type != "application/octet-stream" && type != "application/x-www-form-urlencoded") {
    options.content_type = type;
  }
  if (request.headers.Has("If-Match")) {
    auto tags = EtagList(request.headers.Get("If-Match"));
    options.if_match = tags.empty() ? "" : tags.front();
  }
  if (request.headers.Has("If-None-Match")) {
    auto tags = EtagList(request.headers.Get("If-None-Match"));
    if (tags.size() == 1 && tags[0] == "*") options.if_none_match = true;
  }
  Received received;
  auto upload = drive.BeginUpload(user, path, options);
  if (!upload.ok()) return upload.status();
  received.created = (*upload)->creates();
  if (request.body_reader == nullptr) {
    if (auto s = (*upload)->Append(request.body); !s.ok()) return s;
  } else {
    // Each Read returns at least one byte or ends the loop, and the body is bounded by
    // the route's max_body, so this loop is bounded too.
    for (;;) {
      auto piece = request.body_reader->Read(kReadPiece);
      if (!piece.ok()) {
        PC_LOG(kInfo, "drive.upload_broken")("user", user)("error", piece.status().ToString());
        (*upload)->Abort();
        return absl::InvalidArgumentError("the upload was cut off");
      }
      if (piece->empty()) break;
      if (auto s = (*upload)->Append(*piece); !s.ok()) return s;
    }
  }
  auto entry = (*upload)->Commit();
  if (!entry.ok()) return entry.status();
  received.entry = std::move(*entry);
  return received;
}

void RegisterDriveRoutes(Router& router, const ApiContext& ctx) {
  std::shared_ptr<drive::Drive> drive = SharedDrive(ctx);

  router.Add("GET", "/api/files",
             WithSession(ctx, [&ctx, drive](Request& req, const accounts::Session& s) {
               std::string path = req.Query("path", "/");
               if (InSharedWithMe(path)) return ListSharedWithMe(ctx, s.username, path);
               auto list = drive->List(s.username, path);
               if (!list.ok()) return DriveError(list.status());
               nlohmann::json entries = nlohmann::json::array();
               for (const auto& e : *list) entries.push_back(EntryJson(e));
               nlohmann::json body = {{"path", path}, {"entries", entries}};
               if (auto usage = drive->GetUsage(s.username); usage.ok()) {
                 body["usage"] = {{"used", usage->used_bytes}, {"quota", usage->quota_bytes}};
               }
               return JsonResponse(200, body);
             }));

  router.Add("DELETE", "/api/files",
             WithSession(ctx, [&ctx, drive](Request& req, const accounts::Session& s) {
               std::string path = req.Query("path");
               if (InSharedWithMe(path)) return DeleteSharedWithMe(ctx, s.username, path);
               auto status = drive->Delete(s.username, path);
               if (!status.ok()) return DriveError(status);
               return JsonResponse(200, nlohmann::json::object());
             }));

  router.Add("GET", "/api/files/content",
             WithSession(ctx, [&ctx, drive](Request& req, const accounts::Session& s) {
               if (InSharedWithMe(req.Query("path"))) {
                 return ServeSharedWithMe(ctx, s.username, req.Query("path"), req,
                                          req.Query("inline") != "1");
               }
               bool attachment = req.Query("inline") != "1";
               std::string version = req.Query("version");
               if (!version.empty()) {
                 return ServeReader(drive->OpenVersion(s.username, req.Query("path"), version), req,
                                    attachment);
               }
               return ServeFileContent(*drive, s.username, req.Query("path"), req, attachment);
             }));

  router.Add("PUT", "/api/files/content",
             WithSession(ctx,
                         [&ctx, drive](Request& req, const accounts::Session& s) {
                           std::string path = req.Query("path");
                           if (InSharedWithMe(path)) {
                             return ReceiveSharedWithMe(ctx, s.username, path, req);
                           }
                           auto received = ReceiveFileContent(*drive, s.username, path, req);
                           if (!received.ok()) return DriveError(received.status());
                           Response res = JsonResponse(received->created ? 201 : 200,
                                                       EntryJson(received->entry));
                           res.headers.Set("ETag", QuotedEtag(received->entry.etag));
                           return res;
                         }),
             RouteOptions{.stream_body = true, .max_body = kMaxUploadBytes, .nonblocking = false});

  router.Add("POST", "/api/files/folder",
             WithSession(ctx, [&ctx, drive](Request& req, const accounts::Session& s) {
               auto body = ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               auto path = JsonString(*body, "path");
               if (!path.ok()) return FromStatus(path.status());
               if (InSharedWithMe(*path)) return CreateFolderSharedWithMe(ctx, s.username, *path);
               auto status = drive->CreateFolder(s.username, *path);
               if (!status.ok()) return DriveError(status);
               auto info = drive->Stat(s.username, *path);
               if (!info.ok()) return DriveError(info.status());
               return JsonResponse(201, EntryJson(*info));
             }));

  for (const char* op : {"move", "copy"}) {
    bool is_move = std::string_view(op) == "move";
    router.Add("POST", absl::StrCat("/api/files/", op),
               WithSession(ctx, [&ctx, drive, is_move](Request& req, const accounts::Session& s) {
                 auto body = ParseJsonBody(req);
                 if (!body.ok()) return FromStatus(body.status());
                 auto from = JsonString(*body, "from");
                 auto to = JsonString(*body, "to");
                 if (!from.ok()) return FromStatus(from.status());
                 if (!to.ok()) return FromStatus(to.status());
                 bool overwrite = BoolField(*body, "overwrite");
                 if (InSharedWithMe(*from) || InSharedWithMe(*to)) {
                   return TransferSharedWithMe(ctx, s.username, *from, *to, overwrite, is_move);
                 }
                 auto status = is_move ? drive->Move(s.username, *from, *to, overwrite)
                                       : drive->Copy(s.username, *from, *to, overwrite);
                 if (!status.ok()) return DriveError(status);
                 auto info = drive->Stat(s.username, *to);
                 if (!info.ok()) return DriveError(info.status());
                 return JsonResponse(200, EntryJson(*info));
               }));
  }
  RegisterDriveRecoveryRoutes(router, ctx, drive);
}

}  // namespace penncloud::frontend
