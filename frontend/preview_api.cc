#include "frontend/preview_api.h"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics.h"
#include "drive/thumbnail.h"
#include "drive/thumbnail_cache.h"
#include "drive/thumbnail_process.h"
#include "frontend/drive_api.h"
#include "frontend/share_api.h"

ABSL_FLAG(std::string, thumbnailer, "",
          "the thumbnailer binary (\"\": the one beside this frontend's own binary)");
ABSL_FLAG(int, thumbnail_timeout_ms, 15000,
          "wall-clock limit of one thumbnail, after which its decoder is killed");
ABSL_FLAG(int, thumbnail_concurrency, 2, "thumbnail decoders running at once per frontend");
ABSL_FLAG(bool, thumbnail_zygote, true,
          "fork each thumbnailer from one that loaded libvips once, rather than start one per "
          "image (drive/thumbnailer_zygote.h)");

namespace penncloud::frontend {
namespace {

constexpr int kDefaultSide = 256;

// The media type without parameters, lowercased.
std::string Essence(std::string_view type) {
  std::string essence(type.substr(0, type.find(';')));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(essence));
}

bool Thumbnailable(std::string_view type) {
  std::string e = Essence(type);
  return e == "image/jpeg" || e == "image/png" || e == "image/webp" || e == "image/gif";
}

std::string ThumbnailerBinary() {
  std::string flag = absl::GetFlag(FLAGS_thumbnailer);
  if (!flag.empty()) return flag;
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return (self.parent_path() / "thumbnailer").string();
}

// Outcomes, for /metrics: a second request for the same file and size shows as a
// cache_hit, with no new `made`.
metrics::CounterFamily& Outcomes() {
  static auto& family = metrics::Default().Counter("drive_thumbnails_total",
                                                   "thumbnail requests by outcome", {"outcome"});
  return family;
}
void Count(const char* outcome) { Outcomes().With({outcome}).Inc(); }

struct Previews {
  Previews(std::shared_ptr<drive::Drive> d, kvs::Client* store,
           drive::ThumbnailProcessOptions options)
      : drive(std::move(d)), cache(store), process(std::move(options)) {}
  std::shared_ptr<drive::Drive> drive;
  drive::ThumbnailCache cache;
  drive::ThumbnailProcess process;
};

// The process's one Previews over ctx.store, so every route shares one bound on decoders;
// the routes hold it (weak here, as SharedDrive does, so a store gone is never used).
std::shared_ptr<Previews> SharedPreviews(const ApiContext& ctx) {
  static std::mutex mu;
  static auto* all = new std::map<kvs::Client*, std::weak_ptr<Previews>>();
  std::lock_guard lock(mu);
  auto& slot = (*all)[ctx.store];
  if (auto previews = slot.lock()) return previews;
  drive::ThumbnailProcessOptions options;
  options.command = {ThumbnailerBinary()};
  options.limits.wall_ms = absl::GetFlag(FLAGS_thumbnail_timeout_ms);
  options.max_concurrent = std::max(1, absl::GetFlag(FLAGS_thumbnail_concurrency));
  options.zygote = absl::GetFlag(FLAGS_thumbnail_zygote);
  auto previews = std::make_shared<Previews>(SharedDrive(ctx), ctx.store, std::move(options));
  slot = previews;
  return previews;
}

Response Thumbnail(Previews& p, const Request& req, const std::string& user,
                   const std::string& path) {
  int side = kDefaultSide;
  if (std::string size = req.Query("size"); !size.empty()) {
    if (!absl::SimpleAtoi(size, &side) || side < drive::kMinThumbnailSide ||
        side > drive::kMaxThumbnailSide) {
      return ErrorResponse(
          400, absl::StrCat("size must be a whole number from ", drive::kMinThumbnailSide, " to ",
                            drive::kMaxThumbnailSide));
    }
  }
  auto info = p.drive->Stat(user, path);
  if (!info.ok()) return DriveError(info.status());
  if (info->folder || !Thumbnailable(info->content_type)) {
    Count("unsupported");
    return ErrorResponse(415, "thumbnails are made of JPEG, PNG, WebP and GIF images only");
  }
  if (info->size > p.process.options().limits.max_input_bytes) {
    Count("refused");
    return ErrorResponse(422, "the file is too large to preview");
  }

  auto answer = [&](std::string version, std::string jpeg) {
    Response res;
    if (!jpeg.empty()) res.headers.Set("Content-Type", "image/jpeg");
    res.headers.Set("ETag", QuotedEtag(absl::StrCat(version, "-", side)));
    res.headers.Set("Cache-Control", "private");
    res.headers.Set("X-Content-Type-Options", "nosniff");
    res.body = std::move(jpeg);
    return res;
  };
  std::string etag = QuotedEtag(absl::StrCat(info->etag, "-", side));
  if (req.headers.Get("If-None-Match").find(etag) != std::string_view::npos) {
    Count("not_modified");
    Response res = answer(info->etag, "");
    res.status = 304;
    return res;
  }
  auto cached = p.cache.Get(user, info->etag, side);
  if (!cached.ok()) return DriveError(cached.status());
  if (*cached) {
    Count("cache_hit");
    return answer(info->etag, std::move(**cached));
  }

  // The reader's own entry names the version whose bytes it reads (the file may have been
  // replaced since Stat): that is the version the thumbnail is kept under.
  auto reader = p.drive->Open(user, path);
  if (!reader.ok()) return DriveError(reader.status());
  std::string version = (*reader)->info().etag;
  auto jpeg = p.process.Make(side, [&]() { return (*reader)->Next(); });
  if (absl::IsFailedPrecondition(jpeg.status())) {
    Count("refused");
    PC_LOG(kInfo, "drive.thumbnail_refused")("user", user)("error", jpeg.status().message());
    return ErrorResponse(422, std::string(jpeg.status().message()));
  }
  if (!jpeg.ok()) {
    Count("failed");
    PC_LOG(kWarn, "drive.thumbnail_failed")("user", user)("error", jpeg.status());
    return absl::IsUnavailable(jpeg.status())
               ? ErrorResponse(503, std::string(jpeg.status().message()))
               : DriveError(jpeg.status());
  }
  Count("made");
  if (auto s = p.cache.Put(user, version, side, *jpeg); !s.ok()) {
    PC_LOG(kWarn, "drive.thumbnail_cache_put_failed")("user", user)("error", s);
  }
  return answer(version, std::move(*jpeg));
}

}  // namespace

std::optional<std::string> InlineContentType(std::string_view stored_type) {
  std::string e = Essence(stored_type);
  if (e == "text/plain" || e == "text/markdown" || e == "text/csv") {
    return "text/plain; charset=utf-8";
  }
  if (e == "application/pdf") return e;
  // Raster images, audio and video, as before (never SVG or other XML).
  if (SafeInline(e) && !e.starts_with("text/")) return e;
  return std::nullopt;
}

Response ThumbnailOf(const ApiContext& ctx, const Request& req, const std::string& owner,
                     const std::string& path) {
  return Thumbnail(*SharedPreviews(ctx), req, owner, path);
}

void RegisterPreviewRoutes(Router& router, const ApiContext& ctx) {
  std::shared_ptr<Previews> previews = SharedPreviews(ctx);
  router.Add("GET", "/api/files/thumbnail",
             WithSession(ctx, [&ctx, previews](Request& req, const accounts::Session& s) {
               std::string path = req.Query("path");
               if (InSharedWithMe(path)) return ThumbnailSharedWithMe(ctx, s.username, path, req);
               return Thumbnail(*previews, req, s.username, path);
             }));
}

}  // namespace penncloud::frontend
