// Getting files back and finding them: the trash, older versions and name search
// (DESIGN.md, wave 2). The drive library does the work; this maps it to JSON.
#include "absl/strings/numbers.h"
#include "frontend/drive_api.h"

namespace penncloud::frontend {
namespace {

// Trash and version ids are 128-bit hex; anything else names nothing.
bool PlausibleId(std::string_view id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Response UnknownId() { return ErrorResponse(404, "no such item"); }

nlohmann::json TrashJson(const drive::TrashEntry& t) {
  return {{"id", t.id},
          {"path", t.path},
          {"name", t.path.substr(t.path.rfind('/') + 1)},
          {"type", t.folder ? "folder" : "file"},
          {"size", t.size},
          {"deleted", IsoTimeMs(t.deleted_ms)},
          {"deleted_ms", t.deleted_ms}};
}

nlohmann::json VersionJson(const drive::VersionInfo& v) {
  return {{"id", v.id},
          {"size", v.size},
          {"modified", IsoTimeMs(v.modified_ms)},
          {"modified_ms", v.modified_ms},
          {"replaced", IsoTimeMs(v.replaced_ms)}};
}

nlohmann::json MatchJson(const drive::NameMatch& m) {
  return {{"path", m.path},
          {"name", m.name},
          {"type", m.folder ? "folder" : "file"},
          {"size", m.size},
          {"modified", IsoTimeMs(m.modified_ms)},
          {"modified_ms", m.modified_ms}};
}

}  // namespace

void RegisterDriveRecoveryRoutes(Router& router, const ApiContext& ctx,
                                 std::shared_ptr<drive::Drive> drive) {
  router.Add("GET", "/api/trash", WithSession(ctx, [drive](Request&, const accounts::Session& s) {
               auto items = drive->ListTrash(s.username);
               if (!items.ok()) return DriveError(items.status());
               nlohmann::json entries = nlohmann::json::array();
               for (const auto& t : *items) entries.push_back(TrashJson(t));
               return JsonResponse(200, {{"entries", entries}});
             }));

  // Before /api/trash/{id}, which would match "restore" too.
  router.Add("POST", "/api/trash/restore",
             WithSession(ctx, [drive](Request& req, const accounts::Session& s) {
               auto body = ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               auto id = JsonString(*body, "id");
               if (!id.ok()) return FromStatus(id.status());
               if (!PlausibleId(*id)) return UnknownId();
               auto path = drive->Restore(s.username, *id);
               if (!path.ok()) return DriveError(path.status());
               return JsonResponse(200, {{"path", *path}});
             }));

  router.Add("DELETE", "/api/trash/{id}",
             WithSession(ctx, [drive](Request& req, const accounts::Session& s) {
               const std::string& id = req.params["id"];
               if (!PlausibleId(id)) return UnknownId();
               auto status = drive->Purge(s.username, id);
               if (!status.ok()) return DriveError(status);
               return JsonResponse(200, nlohmann::json::object());
             }));

  router.Add("DELETE", "/api/trash",
             WithSession(ctx, [drive](Request&, const accounts::Session& s) {
               auto purged = drive->EmptyTrash(s.username);
               if (!purged.ok()) return DriveError(purged.status());
               return JsonResponse(200, {{"purged", *purged}});
             }));

  router.Add("GET", "/api/files/versions",
             WithSession(ctx, [drive](Request& req, const accounts::Session& s) {
               auto versions = drive->ListVersions(s.username, req.Query("path"));
               if (!versions.ok()) return DriveError(versions.status());
               nlohmann::json list = nlohmann::json::array();
               for (const auto& v : *versions) list.push_back(VersionJson(v));
               return JsonResponse(200, {{"versions", list}});
             }));

  router.Add("POST", "/api/files/versions/restore",
             WithSession(ctx, [drive](Request& req, const accounts::Session& s) {
               auto body = ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               auto path = JsonString(*body, "path");
               auto id = JsonString(*body, "id");
               if (!path.ok()) return FromStatus(path.status());
               if (!id.ok()) return FromStatus(id.status());
               if (!PlausibleId(*id)) return ErrorResponse(404, "no such version of this file");
               auto info = drive->RestoreVersion(s.username, *path, *id);
               if (!info.ok()) return DriveError(info.status());
               return JsonResponse(200, EntryJson(*info));
             }));

  router.Add(
      "GET", "/api/files/search",
      WithSession(ctx, [drive](Request& req, const accounts::Session& s) {
        int limit = 50;
        if (std::string raw = req.Query("limit"); !raw.empty()) {
          if (!absl::SimpleAtoi(raw, &limit) || limit < 1 || limit > drive::kMaxSearchResults) {
            return ErrorResponse(400, "limit must be a number from 1 to 200");
          }
        }
        auto found = drive->Search(s.username, req.Query("q"), limit);
        if (!found.ok()) return DriveError(found.status());
        nlohmann::json entries = nlohmann::json::array();
        for (const auto& m : *found) entries.push_back(MatchJson(m));
        return JsonResponse(200, {{"entries", entries}});
      }));
}

}  // namespace penncloud::frontend
