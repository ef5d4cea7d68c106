#include "frontend/mail_api_services.h"

namespace penncloud::frontend {

using nlohmann::json;

MailServices::MailServices(const ApiContext& ctx)
    : sending(ctx.store),
      store(*ctx.store),
      queue(*ctx.store),
      delivery(
          store, queue, ctx.mail_domain,
          [a = ctx.accounts](std::string_view u, std::string_view p) {
            return a->CheckPassword(u, p);
          },
          [a = ctx.accounts](std::string_view u) -> absl::StatusOr<bool> {
            auto exists = a->Exists(u);
            if (absl::IsInvalidArgument(exists.status())) return false;
            return exists;
          },
          [this](std::string_view u) { return sending.MaySendOutside(u); }) {}

std::string OptionalString(const json& body, const char* key) {
  return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : "";
}

void AddMailRoute(Router& router, const ApiContext& ctx, const std::shared_ptr<MailServices>& mail,
                  const char* method, const char* pattern, MailHandler handler,
                  RouteOptions options) {
  router.Add(method, pattern,
             WithSession(ctx,
                         [mail, &ctx, handler](Request& r, const accounts::Session& s) {
                           return handler(*mail, ctx, r, s);
                         }),
             options);
}

}  // namespace penncloud::frontend
