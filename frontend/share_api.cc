#include "frontend/share_api.h"

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "drive/cross_move.h"
#include "drive/path.h"
#include "frontend/drive_api.h"
#include "frontend/preview_api.h"
#include "frontend/share_api_access.h"
#include "frontend/share_api_zip.h"
#include "http/static_files.h"

namespace penncloud::frontend {
namespace {

constexpr size_t kReadPiece = 1 << 20;
// A file drop tries this many names before answering 409.
constexpr int kMaxDropNames = 100;

std::string IsoTime(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

nlohmann::json ShareJson(const drive::Share& s) {
  nlohmann::json j = {{"id", s.id},
                      {"kind", s.kind == drive::ShareKind::kLink ? "link" : "user"},
                      {"path", s.path},
                      {"name", BaseName(s.path)},
                      {"permission", std::string(drive::PermissionName(s.permission))},
                      {"created", IsoTime(s.created_ms)}};
  if (s.kind == drive::ShareKind::kLink) {
    j["token"] = s.token;
    j["url"] = "/s/" + s.token;
    j["password"] = s.password;
    j["downloads"] = s.downloads;
    if (s.expires_ms != 0) j["expires"] = IsoTime(s.expires_ms);
  } else {
    j["user"] = s.user;
  }
  return j;
}

// "expires": RFC 3339 ("2026-12-31T23:00:00Z"), a day ("2026-12-31": to the end of it,
// UTC) or milliseconds since the epoch. Absent or null: never.
absl::StatusOr<int64_t> ParseExpiry(const nlohmann::json& body) {
  auto it = body.find("expires");
  if (it == body.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!it->is_string()) return absl::InvalidArgumentError("\"expires\" is a date or a time");
  std::string text = it->get<std::string>();
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return absl::ToUnixMillis(t);
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error)) {
    return absl::ToUnixMillis(t + absl::Hours(24));
  }
  return absl::InvalidArgumentError("\"expires\" is not an RFC 3339 time or a YYYY-MM-DD day");
}

Response CreateShare(const ApiContext& ctx, drive::Shares& shares, const Request& req,
                     const std::string& owner) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  auto path = JsonString(*body, "path");
  if (!path.ok()) return FromStatus(path.status());
  auto name = body->contains("permission") ? JsonString(*body, "permission")
                                           : absl::StatusOr<std::string>("read");
  if (!name.ok()) return FromStatus(name.status());
  auto permission = drive::ParsePermission(*name);
  if (!permission) return ErrorResponse(400, "\"permission\" is read, upload or write");

  if (body->contains("user")) {
    auto user = JsonString(*body, "user");
    if (!user.ok()) return FromStatus(user.status());
    auto normal = accounts::NormalizeUsername(*user);
    auto exists = normal.ok() ? ctx.accounts->Exists(*normal) : absl::StatusOr<bool>(false);
    if (!exists.ok()) return FromStatus(exists.status());
    if (!*exists) return ErrorResponse(404, "no such account");
    auto share = shares.ShareWithUser(owner, *path, *normal, *permission);
    if (!share.ok()) return DriveError(share.status());
    return JsonResponse(201, ShareJson(*share));
  }
  drive::LinkRequest link{
      .path = *path, .permission = *permission, .password = std::nullopt, .expires_ms = 0};
  if (auto it = body->find("password"); it != body->end() && !it->is_null()) {
    if (!it->is_string()) return ErrorResponse(400, "\"password\" is a string");
    link.password = it->get<std::string>();
  }
  auto expires = ParseExpiry(*body);
  if (!expires.ok()) return FromStatus(expires.status());
  link.expires_ms = *expires;
  auto share = shares.CreateLink(owner, link);
  if (!share.ok()) return DriveError(share.status());
  return JsonResponse(201, ShareJson(*share));
}

// The gate's answers: FromStatus's 429 for guessing limits (DriveError would say 507).
Response GateError(const absl::Status& status) {
  Response res = FromStatus(status);
  res.headers.Set("Referrer-Policy", "no-referrer");
  return res;
}

Response LinkError(const absl::Status& status) {
  Response res = DriveError(status);
  res.headers.Set("Referrer-Policy", "no-referrer");
  return res;
}

// A drive error on the owner's side, naming paths as the link's visitor sees them.
Response LinkError(const drive::Share& link, const absl::Status& status) {
  return LinkError(drive::AsSeenThroughShare(status, {{&link, "/"}}));
}

// The owner's path of ?path= inside a read link, or an error response.
absl::StatusOr<std::string> ReadablePath(drive::Shares& shares, const drive::Share& link,
                                         const Request& req) {
  if (link.permission != drive::SharePermission::kRead) {
    return absl::PermissionDeniedError("this link only takes uploads");
  }
  return shares.Resolve(link, req.Query("path", "/"));
}

// "name.txt" -> "name (2).txt" for attempt 2.
std::string NumberedName(const std::string& name, int attempt) {
  if (attempt == 1) return name;
  size_t dot = name.rfind('.');
  if (dot == 0 || dot == std::string::npos) dot = name.size();
  return absl::StrCat(name.substr(0, dot), " (", attempt, ")", name.substr(dot));
}

Response DropFile(drive::Drive& drive, drive::Shares& shares, const drive::Share& link,
                  Request& req) {
  std::string name = req.Query("name");
  if (auto s = drive::ValidateName(name); !s.ok()) return FromStatus(s);
  std::string path;
  for (int attempt = 1; attempt <= kMaxDropNames && path.empty(); ++attempt) {
    auto candidate = shares.Resolve(link, absl::StrCat("/", NumberedName(name, attempt)));
    if (!candidate.ok()) return FromStatus(candidate.status());
    auto existing = drive.Stat(link.owner, *candidate);
    if (absl::IsNotFound(existing.status()))
      path = *candidate;
    else if (!existing.ok())
      return LinkError(link, existing.status());
  }
  if (path.empty()) return ErrorResponse(409, "too many files of that name");
  // Never replaces: of two drops racing for one name, the second fails with 409.
  drive::UploadOptions options;
  options.if_none_match = true;
  auto upload = drive.BeginUpload(link.owner, path, options);
  if (!upload.ok()) return LinkError(link, upload.status());
  // Each Read returns at least one byte or ends the loop; the body is bounded by max_body.
  for (;;) {
    auto piece = req.body_reader->Read(kReadPiece);
    if (!piece.ok()) {
      (*upload)->Abort();
      return ErrorResponse(400, "the upload was cut off");
    }
    if (piece->empty()) break;
    if (auto s = (*upload)->Append(*piece); !s.ok()) return LinkError(link, s);
  }
  auto entry = (*upload)->Commit();
  if (drive::IsConditionFailed(entry.status())) return ErrorResponse(409, "the name was taken");
  if (!entry.ok()) return LinkError(link, entry.status());
  // The uploader learns the name it got, nothing else of the folder.
  return JsonResponse(201, {{"name", entry->name}, {"size", entry->size}});
}

std::string ReadPage(const std::string& web_root) {
  std::ifstream in(web_root + "/share.html", std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void RegisterPublicRoutes(Router& router, const ApiContext& ctx,
                          std::shared_ptr<drive::Drive> drive,
                          std::shared_ptr<drive::Shares> shares) {
  auto gate = std::make_shared<LinkGate>(shares.get());
  std::string page = ReadPage(ctx.web_root);

  router.Add("GET", "/s/{token}", [page](Request&) {
    Response res;
    res.headers.Set("Content-Type", "text/html; charset=utf-8");
    res.headers.Set("Cache-Control", "no-store");
    http::AddPageSecurityHeaders(res);
    res.headers.Set("Referrer-Policy", "no-referrer");
    res.body = page;
    return res;
  });

  router.Add("GET", "/s/{token}/info", [gate, drive](Request& req) {
    bool unlocked = false;
    auto link = gate->Peek(req, &unlocked);
    if (!link.ok()) return GateError(link.status());
    nlohmann::json body = {{"permission", std::string(drive::PermissionName(link->permission))},
                           {"password", link->password},
                           {"unlocked", unlocked}};
    if (link->expires_ms != 0) body["expires"] = IsoTime(link->expires_ms);
    if (unlocked) {
      auto info = drive->Stat(link->owner, link->path);
      if (!info.ok()) return LinkError(*link, info.status());
      body["name"] = info->name;
      body["type"] = info->folder ? "folder" : "file";
      body["size"] = info->size;
    }
    Response res = JsonResponse(200, body);
    res.headers.Set("Referrer-Policy", "no-referrer");
    return res;
  });

  router.Add("POST", "/s/{token}/unlock", [gate, &ctx](Request& req) {
    auto body = ParseJsonBody(req);
    if (!body.ok()) return LinkError(body.status());
    auto password = JsonString(*body, "password");
    if (!password.ok()) return LinkError(password.status());
    auto cookie = gate->Unlock(ctx, req, *password);
    if (!cookie.ok()) return GateError(cookie.status());
    Response res = JsonResponse(200, nlohmann::json::object());
    res.headers.Add("Set-Cookie", *cookie);
    res.headers.Set("Referrer-Policy", "no-referrer");
    return res;
  });

  router.Add("GET", "/s/{token}/files", [gate, drive, shares](Request& req) {
    auto link = gate->Open(req);
    if (!link.ok()) return GateError(link.status());
    auto path = ReadablePath(*shares, *link, req);
    if (!path.ok()) return LinkError(path.status());
    auto info = drive->Stat(link->owner, *path);
    if (!info.ok()) return LinkError(*link, info.status());
    nlohmann::json entries = nlohmann::json::array();
    if (!info->folder) {
      entries.push_back(SharedEntryJson(*info));  // a file link lists its one file
    } else {
      auto list = drive->List(link->owner, *path);
      if (!list.ok()) return LinkError(*link, list.status());
      for (const auto& e : *list) entries.push_back(SharedEntryJson(e));
    }
    Response res = JsonResponse(200, {{"path", req.Query("path", "/")}, {"entries", entries}});
    res.headers.Set("Referrer-Policy", "no-referrer");
    return res;
  });

  router.Add("GET", "/s/{token}/content", [gate, drive, shares](Request& req) {
    auto link = gate->Open(req);
    if (!link.ok()) return GateError(link.status());
    auto path = ReadablePath(*shares, *link, req);
    if (!path.ok()) return LinkError(path.status());
    // A file link's one file is reached as "/" or by its own name.
    auto info = drive->Stat(link->owner, *path);
    if (info.ok() && info->folder && req.Query("path", "/") == "/") {
      return LinkError(absl::FailedPreconditionError("a folder: use /zip"));
    }
    if (!info.ok() && BaseName(link->path) == BaseName(*path)) path = link->path;
    auto opened = drive->Open(link->owner, *path);
    if (!opened.ok()) return LinkError(*link, opened.status());
    Response res = ServeReader(std::move(opened), req, req.Query("inline") != "1");
    res.headers.Set("Referrer-Policy", "no-referrer");
    if ((res.status == 200 || res.status == 206) && !req.headers.Has("Range")) {
      shares->CountDownload(*link);
    }
    return res;
  });

  // The same access as a download of that file, so nothing outside the share can be named.
  router.Add("GET", "/s/{token}/thumbnail", [gate, drive, shares, &ctx](Request& req) {
    auto link = gate->Open(req);
    if (!link.ok()) return GateError(link.status());
    auto path = ReadablePath(*shares, *link, req);
    if (!path.ok()) return LinkError(path.status());
    // A file link's one file is reached as "/" or by its own name, as for /content.
    if (req.Query("path", "/") != "/" && BaseName(link->path) == BaseName(*path) &&
        !drive->Stat(link->owner, *path).ok()) {
      path = link->path;
    }
    // Checked here too, so that a missing file's error names the visitor's path.
    if (auto info = drive->Stat(link->owner, *path); !info.ok()) {
      return LinkError(*link, info.status());
    }
    Response res = ThumbnailOf(ctx, req, link->owner, *path);
    res.headers.Set("Referrer-Policy", "no-referrer");
    return res;
  });

  router.Add("GET", "/s/{token}/zip", [gate, drive, shares](Request& req) {
    auto link = gate->Open(req);
    if (!link.ok()) return GateError(link.status());
    auto path = ReadablePath(*shares, *link, req);
    if (!path.ok()) return LinkError(path.status());
    auto opened = drive::ZipStream::Open(drive.get(), link->owner, *path);
    if (!opened.ok()) return LinkError(*link, opened.status());
    Response res = ZipResponse(std::move(opened));
    res.headers.Set("Referrer-Policy", "no-referrer");
    if (res.stream) shares->CountDownload(*link);
    return res;
  });

  router.Add(
      "PUT", "/s/{token}/upload",
      [gate, drive, shares](Request& req) {
        auto link = gate->Open(req);
        if (!link.ok()) return GateError(link.status());
        if (link->permission != drive::SharePermission::kUpload) {
          return LinkError(absl::PermissionDeniedError("this link does not take uploads"));
        }
        return DropFile(*drive, *shares, *link, req);
      },
      RouteOptions{.stream_body = true, .max_body = kMaxUploadBytes, .nonblocking = false});
}

// How often each frontend looks for moves between drives whose runner died.
constexpr int64_t kMoveSweepMs = 5000;

drive::CrossMoveOptions MoveOptions() {
  drive::CrossMoveOptions options;
  options.sweep_interval_ms = kMoveSweepMs;
  // Test knob: process tests shorten the lease to watch a dead runner's move finished.
  int64_t ms = 0;
  if (const char* v = std::getenv("PENNCLOUD_DRIVE_MOVE_LEASE_MS"); v && absl::SimpleAtoi(v, &ms)) {
    options.lease_ms = ms;
    options.sweep_interval_ms = std::min(kMoveSweepMs, ms);
  }
  return options;
}

// The sharing side of one store: the Shares, the moves between drives (which hand shares
// over), and the Drive they both use, kept alive with them.
struct SharingServices {
  SharingServices(kvs::Client* store, std::shared_ptr<drive::Drive> d)
      : drive(std::move(d)),
        shares(store, drive.get()),
        moves(store, drive.get(), &shares, MoveOptions()) {}
  std::shared_ptr<drive::Drive> drive;
  drive::Shares shares;
  drive::CrossDriveMoves moves;
};

std::shared_ptr<SharingServices> Services(const ApiContext& ctx) {
  static std::mutex mu;
  static auto* all = new std::map<kvs::Client*, std::weak_ptr<SharingServices>>();
  std::lock_guard lock(mu);
  auto& slot = (*all)[ctx.store];
  if (auto services = slot.lock()) return services;
  // The services keep the Drive they use alive, and let go of it with their last user: a
  // deleter's captures would live on while the weak slot does, and with them the Drive's
  // collector thread, past the store it reads (found by http_api_fuzz).
  auto services = std::make_shared<SharingServices>(ctx.store, SharedDrive(ctx));
  slot = services;
  return services;
}

}  // namespace

nlohmann::json SharedEntryJson(const drive::EntryInfo& e) {
  nlohmann::json j = {{"name", e.name},
                      {"type", e.folder ? "folder" : "file"},
                      {"size", e.size},
                      {"modified", IsoTime(e.modified_ms)},
                      {"modified_ms", e.modified_ms}};
  if (!e.folder) j["content_type"] = e.content_type;
  return j;
}

std::shared_ptr<drive::Shares> SharedShares(const ApiContext& ctx) {
  auto services = Services(ctx);
  return std::shared_ptr<drive::Shares>(services, &services->shares);
}

std::shared_ptr<drive::CrossDriveMoves> SharedMoves(const ApiContext& ctx) {
  auto services = Services(ctx);
  return std::shared_ptr<drive::CrossDriveMoves>(services, &services->moves);
}

std::string SharedWithMeRoot(const drive::Share& share) {
  return absl::StrCat(std::string(kSharedWithMe), "/", share.owner, "/", share.name);
}

bool InSharedWithMe(std::string_view path) {
  if (!path.starts_with(kSharedWithMe)) return false;
  std::string_view rest = path.substr(kSharedWithMe.size());
  return rest.empty() || rest.front() == '/';
}

void RegisterShareRoutes(Router& router, const ApiContext& ctx) {
  std::shared_ptr<drive::Drive> drive = SharedDrive(ctx);
  std::shared_ptr<drive::Shares> shares = SharedShares(ctx);

  router.Add("POST", "/api/shares",
             WithSession(ctx, [&ctx, shares](Request& req, const accounts::Session& s) {
               return CreateShare(ctx, *shares, req, s.username);
             }));
  router.Add("GET", "/api/shares", WithSession(ctx, [shares](Request&, const accounts::Session& s) {
               auto mine = shares->ListMine(s.username);
               if (!mine.ok()) return DriveError(mine.status());
               nlohmann::json list = nlohmann::json::array();
               for (const auto& share : *mine) list.push_back(ShareJson(share));
               return JsonResponse(200, {{"shares", list}});
             }));
  router.Add(
      "GET", "/api/shares/incoming",
      WithSession(ctx, [shares](Request&, const accounts::Session& s) {
        auto incoming = shares->ListIncoming(s.username);
        if (!incoming.ok()) return DriveError(incoming.status());
        nlohmann::json list = nlohmann::json::array();
        for (const auto& share : *incoming) {
          list.push_back({{"id", share.id},
                          {"owner", share.owner},
                          {"name", share.name},
                          {"path", SharedWithMeRoot(share)},
                          {"permission", std::string(drive::PermissionName(share.permission))},
                          {"created", IsoTime(share.created_ms)}});
        }
        return JsonResponse(200, {{"shares", list}});
      }));
  router.Add("DELETE", "/api/shares/{id}",
             WithSession(ctx, [shares](Request& req, const accounts::Session& s) {
               auto status = shares->Revoke(s.username, req.params["id"]);
               if (!status.ok()) return DriveError(status);
               return JsonResponse(200, nlohmann::json::object());
             }));
  RegisterZipRoutes(router, ctx, drive);
  RegisterPublicRoutes(router, ctx, drive, shares);
}

}  // namespace penncloud::frontend
