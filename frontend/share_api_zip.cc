#include "frontend/share_api_zip.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "frontend/drive_api.h"
#include "frontend/share_api.h"

namespace penncloud::frontend {
namespace {

// Every value of query parameter `name`, in order (Request::query keeps only one). Bounded
// by the request line's own limit (http::kMaxHeaderBytes).
std::vector<std::string> QueryValues(const Request& req, std::string_view name) {
  std::vector<std::string> values;
  size_t question = req.target.find('?');
  if (question == std::string::npos) return values;
  absl::string_view query(req.target);
  query.remove_prefix(question + 1);
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::string_view pair(part.data(), part.size());
    size_t equals = pair.find('=');
    if (http::PercentDecode(pair.substr(0, equals), true) != name) continue;
    values.push_back(
        equals == std::string_view::npos ? "" : http::PercentDecode(pair.substr(equals + 1), true));
  }
  return values;
}

// The archive of `paths` as `user` may read them: their own, or reached through a share.
Response ZipOfPaths(const ApiContext& ctx, drive::Drive& drive, const std::string& user,
                    const std::vector<std::string>& paths) {
  if (paths.size() > drive::kMaxZipItems) {
    return ErrorResponse(400, absl::StrCat("at most ", drive::kMaxZipItems, " items in one zip"));
  }
  std::vector<drive::ZipItem> items;
  std::vector<DrivePlace> places;
  places.reserve(paths.size());
  for (const std::string& path : paths) {
    auto place = ResolvePlace(ctx, user, path, PlaceUse::kRead);
    if (!place.ok()) return DriveError(place.status());
    items.push_back({place->owner, place->path});
    places.push_back(*std::move(place));
  }
  auto opened = items.size() == 1
                    ? drive::ZipStream::Open(&drive, items[0].user, items[0].path)
                    : drive::ZipStream::OpenMany(&drive, std::move(items), "download.zip");
  if (!opened.ok()) {
    std::vector<const DrivePlace*> reached;
    for (const DrivePlace& place : places) reached.push_back(&place);
    return DriveError(SeenFrom(opened.status(), reached));
  }
  return ZipResponse(std::move(opened));
}

}  // namespace

Response ZipResponse(absl::StatusOr<std::unique_ptr<drive::ZipStream>> opened) {
  if (!opened.ok()) return DriveError(opened.status());
  std::shared_ptr<drive::ZipStream> stream = std::move(*opened);
  Response res;
  res.headers.Set("Content-Type", "application/zip");
  res.headers.Set("X-Content-Type-Options", "nosniff");
  res.headers.Set("Content-Security-Policy", "sandbox");
  res.headers.Set("Content-Disposition",
                  absl::StrCat("attachment; filename=\"download.zip\"; filename*=UTF-8''",
                               PercentEncode(stream->file_name())));
  res.stream = [stream]() -> absl::StatusOr<std::optional<std::string>> {
    auto piece = stream->Next();
    if (!piece.ok()) return piece.status();
    if (piece->empty()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(*piece));
  };
  return res;
}

void RegisterZipRoutes(Router& router, const ApiContext& ctx, std::shared_ptr<drive::Drive> drive) {
  router.Add("GET", "/api/files/zip",
             WithSession(ctx, [&ctx, drive](Request& req, const accounts::Session& s) {
               std::vector<std::string> paths = QueryValues(req, "path");
               if (paths.empty()) paths.push_back("/");
               return ZipOfPaths(ctx, *drive, s.username, paths);
             }));
  router.Add("POST", "/api/files/zip",
             WithSession(ctx, [&ctx, drive](Request& req, const accounts::Session& s) {
               auto body = ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               auto list = body->find("paths");
               if (list == body->end() || !list->is_array()) {
                 return ErrorResponse(400, "\"paths\" is a list of paths");
               }
               std::vector<std::string> paths;
               for (const auto& path : *list) {
                 if (!path.is_string()) return ErrorResponse(400, "\"paths\" holds strings");
                 paths.push_back(path.get<std::string>());
               }
               if (paths.empty()) return ErrorResponse(400, "nothing to zip");
               return ZipOfPaths(ctx, *drive, s.username, paths);
             }));
}

}  // namespace penncloud::frontend
