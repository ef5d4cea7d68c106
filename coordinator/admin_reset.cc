#include "coordinator/admin_reset.h"

#include <memory>

#include "accounts/password_reset.h"
#include "common/log.h"
#include "coordinator/admin.h"

namespace penncloud::coordinator {

void RegisterResetAdminRoutes(http::Router& router, const frontend::ApiContext& ctx) {
  auto resets = std::make_shared<accounts::PasswordResets>(ctx.store, ctx.accounts);
  router.Add(
      "POST", "/api/admin/users/{name}/reset",
      WithAdmin(ctx, [resets](http::Request& req, const accounts::Session& admin) {
        int hours = 24;
        if (!req.body.empty()) {
          absl::StatusOr<nlohmann::json> body = frontend::ParseJsonBody(req);
          if (!body.ok()) return frontend::FromStatus(body.status());
          if (auto it = body->find("hours"); it != body->end()) {
            if (!it->is_number_integer() || *it < 1 || *it > 168) {
              return http::ErrorResponse(400, "hours must be a whole number from 1 to 168");
            }
            hours = it->get<int>();
          }
        }
        absl::StatusOr<std::string> name = accounts::NormalizeUsername(req.params.at("name"));
        if (!name.ok()) return http::ErrorResponse(404, "no such user");
        absl::StatusOr<accounts::ResetLink> link = resets->Create(*name, absl::Hours(hours));
        if (!link.ok()) return frontend::FromStatus(link.status());
        PC_LOG(kInfo, "admin.reset_link")("user", *name)("hours", hours)("by", admin.username);
        return http::JsonResponse(201, {{"username", *name},
                                        {"token", link->token},
                                        {"url", "/reset?token=" + link->token},
                                        {"expires", link->expires_unix_s}});
      }));
}

}  // namespace penncloud::coordinator
