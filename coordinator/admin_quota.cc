#include "coordinator/admin_quota.h"

#include <memory>

#include "common/log.h"
#include "coordinator/admin.h"

namespace penncloud::coordinator {
namespace {

using frontend::FromStatus;
using http::ErrorResponse;
using http::Request;
using http::Response;

// The route's {name} as an existing account; 404 otherwise.
absl::StatusOr<std::string> ExistingUser(const frontend::ApiContext& ctx, Request& req) {
  absl::StatusOr<std::string> name = accounts::NormalizeUsername(req.params.at("name"));
  if (!name.ok()) return absl::NotFoundError("no such user");
  absl::StatusOr<bool> exists = ctx.accounts->Exists(*name);
  if (!exists.ok()) return exists.status();
  if (!*exists) return absl::NotFoundError("no such user");
  return name;
}

Response UsageOf(drive::Drive& drive, const std::string& user) {
  absl::StatusOr<drive::Usage> usage = drive.GetUsage(user);
  if (!usage.ok()) return FromStatus(usage.status());
  return http::JsonResponse(
      200, {{"username", user}, {"used", usage->used_bytes}, {"quota", usage->quota_bytes}});
}

}  // namespace

absl::StatusOr<drive::Usage> DriveUsage(kvs::Client* store, std::string_view user) {
  // Only reads the state row: no collector thread, the frontends' default quota.
  return drive::Drive(store).GetUsage(user);
}

void RegisterQuotaAdminRoutes(http::Router& router, const frontend::ApiContext& ctx) {
  // Only reads and writes the state row: no collector thread, the frontends' default quota.
  auto drive = std::make_shared<drive::Drive>(ctx.store);
  router.Add("GET", "/api/admin/users/{name}/drive",
             WithAdmin(ctx, [&ctx, drive](Request& req, const accounts::Session&) {
               absl::StatusOr<std::string> user = ExistingUser(ctx, req);
               if (!user.ok()) return FromStatus(user.status());
               return UsageOf(*drive, *user);
             }));
  router.Add("PUT", "/api/admin/users/{name}/drive",
             WithAdmin(ctx, [&ctx, drive](Request& req, const accounts::Session& admin) {
               absl::StatusOr<nlohmann::json> body = frontend::ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               auto it = body->find("quota");
               // JSON numbers past 2^53 lose precision in browsers: the bound keeps them exact.
               if (it == body->end() || !it->is_number_integer() || *it < 0 ||
                   it->get<uint64_t>() > kMaxQuotaBytes) {
                 return ErrorResponse(400, "quota must be a whole number of bytes from 0 to 2^50");
               }
               const uint64_t quota = it->get<uint64_t>();
               absl::StatusOr<std::string> user = ExistingUser(ctx, req);
               if (!user.ok()) return FromStatus(user.status());
               if (absl::Status s = drive->SetQuota(*user, quota); !s.ok()) return FromStatus(s);
               PC_LOG(kInfo, "admin.quota")("user", *user)("quota", quota)("by", admin.username);
               return UsageOf(*drive, *user);
             }));
}

}  // namespace penncloud::coordinator
