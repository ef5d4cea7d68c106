#include "frontend/tus_api.h"

#include <memory>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "drive/tus.h"
#include "drive/tus_headers.h"
#include "frontend/drive_api.h"

namespace penncloud::frontend {
namespace {

constexpr char kTusVersion[] = "1.0.0";
constexpr char kTusExtensions[] = "creation,creation-with-upload,termination,checksum,expiration";
constexpr char kOffsetStream[] = "application/offset+octet-stream";
constexpr char kUploadsPath[] = "/api/uploads/";
constexpr int64_t kSweepIntervalMs = 60 * 1000;

// The one TusStore of this process, beside SharedDrive's Drive (its sweeper runs here).
std::shared_ptr<drive::TusStore> SharedTus(const ApiContext& ctx,
                                           std::shared_ptr<drive::Drive> drive) {
  static std::mutex mu;
  static auto* stores = new std::map<kvs::Client*, std::weak_ptr<drive::TusStore>>();
  std::lock_guard lock(mu);
  auto& slot = (*stores)[ctx.store];
  if (auto tus = slot.lock()) return tus;
  drive::TusOptions options;
  options.max_length = kMaxUploadBytes;
  options.sweep_interval_ms = kSweepIntervalMs;
  // The store keeps the Drive alive as long as it lives.
  auto tus = std::shared_ptr<drive::TusStore>(new drive::TusStore(ctx.store, drive.get(), options),
                                              [drive](drive::TusStore* t) { delete t; });
  slot = tus;
  return tus;
}

Response WithTus(Response res) {
  res.headers.Set("Tus-Resumable", kTusVersion);
  res.headers.Set("Cache-Control", "no-store");
  return res;
}

Response TusError(const absl::Status& status) {
  if (drive::IsTusChecksumMismatch(status)) {
    return WithTus(ErrorResponse(460, std::string(status.message())));
  }
  int code = 0;
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      code = 404;
      break;
    case absl::StatusCode::kFailedPrecondition:
      code = 409;
      break;
    case absl::StatusCode::kInvalidArgument:
      code = 400;
      break;
    case absl::StatusCode::kResourceExhausted:
      code = 413;
      break;
    case absl::StatusCode::kAborted:
      code = 423;  // busy: tus clients retry
      break;
    default:
      return WithTus(DriveError(status));
  }
  return WithTus(ErrorResponse(code, std::string(status.message())));
}

// Session first (401/403 from WithSession), then the protocol version.
SessionHandler Tus(SessionHandler handler) {
  return [handler](Request& req, const accounts::Session& s) {
    if (req.headers.Get("Tus-Resumable") != kTusVersion) {
      Response res = WithTus(ErrorResponse(412, "Tus-Resumable: 1.0.0 is required"));
      res.headers.Set("Tus-Version", kTusVersion);
      return res;
    }
    return handler(req, s);
  };
}

Response Progress(const drive::TusUploadInfo& info, int status) {
  Response res;
  res.status = status;
  res.headers.Set("Upload-Offset", absl::StrCat(info.offset));
  res.headers.Set("Upload-Length", absl::StrCat(info.length));
  // A finished upload's file does not expire; only the unfinished upload does.
  if (!info.done) res.headers.Set("Upload-Expires", HttpDate(info.expires_ms));
  return WithTus(std::move(res));
}

// The request body as TusStore reads it.
drive::TusByteSource BodyOf(Request& req) {
  return [&req](size_t max) -> absl::StatusOr<std::string> {
    if (req.body_reader == nullptr) {
      std::string all;
      all.swap(req.body);
      return all;
    }
    return req.body_reader->Read(max);
  };
}

// Upload-Checksum, if the request has one.
absl::StatusOr<std::optional<drive::TusChecksum>> ChecksumOf(const Request& req) {
  if (!req.headers.Has("Upload-Checksum")) return std::nullopt;
  auto checksum = drive::ParseTusChecksum(req.headers.Get("Upload-Checksum"));
  if (!checksum.ok()) return checksum.status();
  return *checksum;
}

}  // namespace

void RegisterTusRoutes(Router& router, const ApiContext& ctx) {
  std::shared_ptr<drive::TusStore> tus = SharedTus(ctx, SharedDrive(ctx));
  const uint64_t max_length = tus->options().max_length;

  Handler options = [max_length](Request&) {
    Response res;
    res.status = 204;
    res.headers.Set("Tus-Version", kTusVersion);
    res.headers.Set("Tus-Extension", kTusExtensions);
    res.headers.Set("Tus-Max-Size", absl::StrCat(max_length));
    res.headers.Set("Tus-Checksum-Algorithm", drive::kTusChecksumAlgorithms);
    return WithTus(std::move(res));
  };
  Handler create = WithSession(
      ctx, Tus([tus, max_length](Request& req, const accounts::Session& s) {
        if (req.headers.Has("Upload-Defer-Length")) {
          return TusError(absl::InvalidArgumentError("Upload-Defer-Length is not supported"));
        }
        if (!req.headers.Has("Upload-Length")) {
          return TusError(absl::InvalidArgumentError("Upload-Length is required"));
        }
        auto length =
            drive::ParseTusNumber(req.headers.Get("Upload-Length"), UINT64_MAX, "Upload-Length");
        if (!length.ok()) return TusError(length.status());
        if (*length > max_length) {
          return TusError(absl::ResourceExhaustedError(
              absl::StrCat("Upload-Length is over Tus-Max-Size ", max_length)));
        }
        auto metadata = drive::ParseTusMetadata(req.headers.Get("Upload-Metadata"));
        if (!metadata.ok()) return TusError(metadata.status());
        // creation-with-upload: the first bytes may come with the creation.
        const bool with_bytes = req.headers.Get("Content-Type") == kOffsetStream;
        if (!with_bytes && req.content_length.value_or(0) > 0) {
          return WithTus(ErrorResponse(415, "a body must be application/offset+octet-stream"));
        }
        auto checksum = ChecksumOf(req);
        if (!checksum.ok()) return TusError(checksum.status());
        auto info = tus->Create(s.username, *length, *metadata);
        if (!info.ok()) return TusError(info.status());
        if (with_bytes) {
          // The upload exists whatever happens to its first bytes: the answer says how far
          // it got, and the client goes on with PATCH from there.
          auto appended = tus->Append(s.username, info->id, 0, BodyOf(req), *checksum);
          if (!appended.ok()) appended = tus->Get(s.username, info->id);
          if (appended.ok()) info = std::move(appended);
        }
        Response res = Progress(*info, 201);
        res.headers.Set("Location", absl::StrCat(kUploadsPath, info->id));
        return res;
      }));
  const RouteOptions streamed{
      .stream_body = true, .max_body = kMaxUploadBytes, .nonblocking = false};
  for (const char* path : {"/api/uploads", kUploadsPath}) {
    router.Add("OPTIONS", path, options);
    router.Add("POST", path, create, streamed);
  }
  router.Add("OPTIONS", "/api/uploads/{id}", options);

  router.Add("HEAD", "/api/uploads/{id}",
             WithSession(ctx, Tus([tus](Request& req, const accounts::Session& s) {
                           auto info = tus->Get(s.username, req.params["id"]);
                           if (!info.ok()) return TusError(info.status());
                           return Progress(*info, 200);
                         })));

  router.Add(
      "PATCH", "/api/uploads/{id}",
      WithSession(ctx, Tus([tus](Request& req, const accounts::Session& s) {
                    if (req.headers.Get("Content-Type") != kOffsetStream) {
                      return WithTus(ErrorResponse(
                          415, "Content-Type must be application/offset+octet-stream"));
                    }
                    if (!req.headers.Has("Upload-Offset")) {
                      return TusError(absl::InvalidArgumentError("Upload-Offset is required"));
                    }
                    auto offset = drive::ParseTusNumber(req.headers.Get("Upload-Offset"),
                                                        UINT64_MAX, "Upload-Offset");
                    if (!offset.ok()) return TusError(offset.status());
                    auto checksum = ChecksumOf(req);
                    if (!checksum.ok()) return TusError(checksum.status());
                    auto info =
                        tus->Append(s.username, req.params["id"], *offset, BodyOf(req), *checksum);
                    if (!info.ok()) return TusError(info.status());
                    return Progress(*info, 204);
                  })),
      streamed);

  router.Add("DELETE", "/api/uploads/{id}",
             WithSession(ctx, Tus([tus](Request& req, const accounts::Session& s) {
                           auto status = tus->Terminate(s.username, req.params["id"]);
                           if (!status.ok()) return TusError(status);
                           Response res;
                           res.status = 204;
                           return WithTus(std::move(res));
                         })));
}

}  // namespace penncloud::frontend
