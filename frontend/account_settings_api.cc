#include "frontend/account_settings_api.h"

#include "absl/time/time.h"
#include "common/log.h"
#include "frontend/mail_api_profile.h"
#include "frontend/qr_svg.h"
#include "frontend/user_agent.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

// The name authenticator apps show above the code.
constexpr char kIssuer[] = "PennCloud";

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

json AppPasswordJson(const accounts::AppPassword& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"created", Rfc3339(p.created)},
          {"last_used", p.last_used ? json(Rfc3339(*p.last_used)) : json(nullptr)}};
}

json SessionJson(const accounts::SessionInfo& s) {
  return {{"id", s.id},
          {"device", DeviceName(s.user_agent)},
          {"user_agent", s.user_agent},
          {"address", s.address},
          {"created", s.created == absl::InfinitePast() ? json(nullptr) : json(Rfc3339(s.created))},
          {"last_seen",
           s.last_seen == absl::InfinitePast() ? json(nullptr) : json(Rfc3339(s.last_seen))},
          {"current", s.current}};
}

void AddAppPasswordRoutes(Router& router, const ApiContext& ctx) {
  router.Add("GET", "/api/account/app-passwords",
             WithSession(ctx, [&ctx](Request&, const accounts::Session& s) {
               auto list = ctx.accounts->app_passwords().List(s.username);
               if (!list.ok()) return FromStatus(list.status());
               json out = json::array();
               for (const accounts::AppPassword& p : *list) out.push_back(AppPasswordJson(p));
               return JsonResponse(200, {{"app_passwords", out}});
             }));
  router.Add("POST", "/api/account/app-passwords",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session& s) {
               absl::StatusOr<json> body = ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               absl::StatusOr<std::string> name = JsonString(*body, "name");
               if (!name.ok()) return FromStatus(name.status());
               auto made = ctx.accounts->app_passwords().Create(s.username, *name);
               if (!made.ok()) return FromStatus(made.status());
               PC_LOG(kInfo, "accounts.app_password_created")("user", s.username);
               json out = AppPasswordJson(made->info);
               out["password"] = made->secret;
               return JsonResponse(201, out);
             }));
  router.Add("DELETE", "/api/account/app-passwords/{id}",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session& s) {
               absl::Status done =
                   ctx.accounts->app_passwords().Revoke(s.username, req.params["id"]);
               if (!done.ok()) return FromStatus(done);
               PC_LOG(kInfo, "accounts.app_password_revoked")("user", s.username);
               return JsonResponse(200, json::object());
             }));
}

void AddTwoFactorRoutes(Router& router, const ApiContext& ctx) {
  router.Add("GET", "/api/account/two-factor",
             WithSession(ctx, [&ctx](Request&, const accounts::Session& s) {
               auto state = ctx.accounts->two_factor().State(s.username);
               if (!state.ok()) return FromStatus(state.status());
               return JsonResponse(200, {{"enabled", state->enabled},
                                         {"recovery_codes_left", state->recovery_codes_left}});
             }));
  router.Add("POST", "/api/account/two-factor/setup",
             WithSession(ctx, [&ctx](Request&, const accounts::Session& s) {
               auto enrollment = ctx.accounts->two_factor().Begin(s.username, kIssuer);
               if (!enrollment.ok()) return FromStatus(enrollment.status());
               absl::StatusOr<std::string> svg = QrSvg(enrollment->uri);
               if (!svg.ok()) return FromStatus(svg.status());
               return JsonResponse(
                   200,
                   {{"secret", enrollment->secret}, {"uri", enrollment->uri}, {"qr_svg", *svg}});
             }));
  router.Add("POST", "/api/account/two-factor/confirm",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session& s) {
               absl::StatusOr<json> body = ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               absl::StatusOr<std::string> code = JsonString(*body, "code");
               if (!code.ok()) return FromStatus(code.status());
               auto codes = ctx.accounts->two_factor().Confirm(s.username, *code);
               if (!codes.ok()) return FromStatus(codes.status());
               PC_LOG(kInfo, "accounts.two_factor_on")("user", s.username);
               return JsonResponse(200, {{"recovery_codes", *codes}});
             }));
  router.Add("POST", "/api/account/two-factor/disable",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session& s) {
               absl::StatusOr<json> body = ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               absl::StatusOr<std::string> password = JsonString(*body, "password");
               absl::StatusOr<std::string> code = JsonString(*body, "code");
               if (!password.ok()) return FromStatus(password.status());
               if (!code.ok()) return FromStatus(code.status());
               absl::Status done =
                   ctx.accounts->DisableTwoFactor(req.Cookie(kSessionCookie), *password, *code);
               if (absl::IsUnauthenticated(done)) {
                 return ErrorResponse(401, "the password or the code is wrong");
               }
               if (!done.ok()) {
                 Response res = FromStatus(done);
                 if (absl::IsResourceExhausted(done)) res.headers.Set("Retry-After", "1");
                 return res;
               }
               PC_LOG(kInfo, "accounts.two_factor_off")("user", s.username);
               return JsonResponse(200, json::object());
             }));
}

void AddSessionRoutes(Router& router, const ApiContext& ctx) {
  router.Add("GET", "/api/account/sessions",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session&) {
               auto list = ctx.accounts->ListSessions(req.Cookie(kSessionCookie));
               if (!list.ok()) return FromStatus(list.status());
               json out = json::array();
               for (const accounts::SessionInfo& s : *list) out.push_back(SessionJson(s));
               return JsonResponse(200, {{"sessions", out}});
             }));
  router.Add("DELETE", "/api/account/sessions/{id}",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session&) {
               absl::Status done =
                   ctx.accounts->EndSession(req.Cookie(kSessionCookie), req.params["id"]);
               if (!done.ok()) return FromStatus(done);
               return JsonResponse(200, json::object());
             }));
  router.Add("POST", "/api/account/sessions/end-others",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session&) {
               absl::Status done = ctx.accounts->EndOtherSessions(req.Cookie(kSessionCookie));
               if (!done.ok()) return FromStatus(done);
               return JsonResponse(200, json::object());
             }));
}

void AddProfileRoutes(Router& router, const ApiContext& ctx) {
  router.Add("GET", "/api/account/profile",
             WithSession(ctx, [&ctx](Request&, const accounts::Session& s) {
               auto profile = LoadMailProfile(*ctx.store, s.username);
               if (!profile.ok()) return FromStatus(profile.status());
               return JsonResponse(200, ProfileJson(*profile));
             }));
  router.Add("PUT", "/api/account/profile",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session& s) {
               auto body = ParseJsonBody(req);
               if (!body.ok()) return FromStatus(body.status());
               auto profile = ProfileFromJson(*body);
               if (!profile.ok()) return FromStatus(profile.status());
               absl::Status saved = SaveMailProfile(*ctx.store, s.username, *profile);
               if (!saved.ok()) return FromStatus(saved);
               return JsonResponse(200, ProfileJson(*profile));
             }));
}

}  // namespace

void RegisterAccountSettingsRoutes(Router& router, const ApiContext& ctx) {
  AddAppPasswordRoutes(router, ctx);
  AddTwoFactorRoutes(router, ctx);
  AddSessionRoutes(router, ctx);
  AddProfileRoutes(router, ctx);
}

}  // namespace penncloud::frontend
