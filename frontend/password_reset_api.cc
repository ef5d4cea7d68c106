#include "frontend/password_reset_api.h"

#include <memory>

#include "absl/time/clock.h"
#include "accounts/password_reset.h"
#include "common/log.h"
#include "frontend/share_api_access.h"

namespace penncloud::frontend {
namespace {

struct ResetState {
  explicit ResetState(const ApiContext& ctx)
      : resets(ctx.store, ctx.accounts),
        guesses(kMaxResetGuesses, GuessLimits{}.window_ms, GuessLimits{}.max_keys) {}
  accounts::PasswordResets resets;
  GuessLimiter guesses;  // wrong tokens per client address
};

// Runs `use` on the body's token unless the caller's address is over its guessing limit;
// a refused token counts against it.
template <typename Use>
Response WithToken(ResetState& state, Request& req, Use use) {
  const std::string address = ClientAddress(req);
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  if (!state.guesses.Allowed(address, now_ms)) {
    Response res = ErrorResponse(429, "too many wrong reset links; try again later");
    res.headers.Set("Retry-After", "600");
    return res;
  }
  absl::StatusOr<nlohmann::json> body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  absl::StatusOr<std::string> token = JsonString(*body, "token");
  if (!token.ok()) return FromStatus(token.status());
  absl::StatusOr<std::string> user = use(*token, *body);
  if (absl::IsNotFound(user.status())) state.guesses.Failed(address, now_ms);
  if (!user.ok()) return FromStatus(user.status());
  return JsonResponse(200, {{"username", *user}});
}

}  // namespace

void RegisterPasswordResetRoutes(Router& router, const ApiContext& ctx) {
  auto state = std::make_shared<ResetState>(ctx);
  router.Add("POST", "/api/password/reset/check", [state](Request& req) {
    return WithToken(*state, req, [&](const std::string& token, const nlohmann::json&) {
      return state->resets.UserOf(token);
    });
  });
  router.Add("POST", "/api/password/reset", [state, &ctx](Request& req) {
    Response res = WithToken(
        *state, req,
        [&](const std::string& token, const nlohmann::json& body) -> absl::StatusOr<std::string> {
          absl::StatusOr<std::string> password = JsonString(body, "password");
          if (!password.ok()) return password.status();
          absl::StatusOr<std::string> user = state->resets.Redeem(token, *password);
          if (user.ok()) {
            PC_LOG(kInfo, "account.password_reset")("user", *user);
          }
          return user;
        });
    // Whatever session this browser had is over; its cookie goes too.
    if (res.status == 200) res.headers.Add("Set-Cookie", ClearedSessionCookie(ctx, req));
    return res;
  });
}

}  // namespace penncloud::frontend
