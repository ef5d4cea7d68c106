#include "frontend/accounts_api.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "frontend/signup_policy.h"

namespace penncloud::frontend {
namespace {

// Login and sign-up both answer {"username","csrf"} and set the session cookie.
Response SessionStarted(const ApiContext& ctx, const Request& req, int status,
                        const accounts::LoginResult& login) {
  Response res =
      JsonResponse(status, {{"username", login.session.username}, {"csrf", login.session.csrf}});
  res.headers.Add("Set-Cookie",
                  SessionCookie(ctx, req, login.token, login.session.expires - absl::Now()));
  return res;
}

Response CredentialsError(const absl::Status& status) {
  Response res = FromStatus(status);
  if (absl::IsResourceExhausted(status)) res.headers.Set("Retry-After", "1");
  return res;
}

}  // namespace

void RegisterAccountRoutes(Router& router, const ApiContext& ctx) {
  router.Add("POST", "/api/signup", [&ctx](Request& req) {
    absl::StatusOr<nlohmann::json> body = ParseJsonBody(req);
    if (!body.ok()) return FromStatus(body.status());
    absl::StatusOr<std::string> username = JsonString(*body, "username");
    absl::StatusOr<std::string> password = JsonString(*body, "password");
    if (!username.ok()) return FromStatus(username.status());
    if (!password.ok()) return FromStatus(password.status());
    // The admin's sign-up policy (signup_policy.h): an invite is used up before the
    // account is made, and given back if the sign-up then fails.
    SignupRules rules(ctx.store);
    absl::StatusOr<SignupPolicy> policy = rules.Policy();
    if (!policy.ok()) return FromStatus(policy.status());
    if (*policy == SignupPolicy::kClosed) {
      return ErrorResponse(403, "sign-up is closed; ask an administrator for an account");
    }
    std::optional<Invite> invite;
    if (*policy == SignupPolicy::kInvite) {
      auto it = body->find("invite");
      if (it == body->end() || !it->is_string()) {
        return ErrorResponse(403, "sign-up needs an invite link from an administrator");
      }
      absl::StatusOr<Invite> taken = rules.TakeInvite(it->get<std::string>());
      if (!taken.ok()) return FromStatus(taken.status());
      invite = std::move(*taken);
    }
    absl::StatusOr<std::string> user = ctx.accounts->SignUp(*username, *password);
    if (!user.ok()) {
      if (invite) (void)rules.ReturnInvite(*invite);
      return FromStatus(user.status());
    }
    PC_LOG(kInfo, "accounts.signup")("user", *user);
    // A new account is logged in at once.
    absl::StatusOr<accounts::LoginResult> login =
        ctx.accounts->LogIn(*user, *password, ClientOf(req));
    if (!login.ok()) return FromStatus(login.status());
    return SessionStarted(ctx, req, 201, *login);
  });

  // The sign-up page asks which form to show.
  router.Add("GET", "/api/signup", [&ctx](Request&) {
    absl::StatusOr<SignupPolicy> policy = SignupRules(ctx.store).Policy();
    if (!policy.ok()) return FromStatus(policy.status());
    return JsonResponse(200, {{"policy", SignupPolicyName(*policy)}});
  });

  router.Add("POST", "/api/login", [&ctx](Request& req) {
    absl::StatusOr<nlohmann::json> body = ParseJsonBody(req);
    if (!body.ok()) return FromStatus(body.status());
    absl::StatusOr<std::string> username = JsonString(*body, "username");
    absl::StatusOr<std::string> password = JsonString(*body, "password");
    if (!username.ok()) return FromStatus(username.status());
    if (!password.ok()) return FromStatus(password.status());
    absl::StatusOr<accounts::LoginResult> login =
        ctx.accounts->LogIn(*username, *password, ClientOf(req));
    if (!login.ok()) {
      PC_LOG(kInfo, "accounts.login_failed")("user", *username)("code", login.status().code());
      return CredentialsError(login.status());
    }
    // Two-factor sign-in: no session yet, only the ticket the code step sends back.
    if (login->needs_code()) {
      return JsonResponse(200, {{"code_required", true}, {"ticket", login->code_ticket}});
    }
    return SessionStarted(ctx, req, 200, *login);
  });

  // The second step of a two-factor sign-in: {"ticket","code"}, the code from the
  // authenticator app or a recovery code.
  router.Add("POST", "/api/login/code", [&ctx](Request& req) {
    absl::StatusOr<nlohmann::json> body = ParseJsonBody(req);
    if (!body.ok()) return FromStatus(body.status());
    absl::StatusOr<std::string> ticket = JsonString(*body, "ticket");
    absl::StatusOr<std::string> code = JsonString(*body, "code");
    if (!ticket.ok()) return FromStatus(ticket.status());
    if (!code.ok()) return FromStatus(code.status());
    absl::StatusOr<accounts::LoginResult> login =
        ctx.accounts->LogInWithCode(*ticket, *code, ClientOf(req));
    if (!login.ok()) {
      PC_LOG(kInfo, "accounts.code_failed")("code", login.status().code());
      return CredentialsError(login.status());
    }
    return SessionStarted(ctx, req, 200, *login);
  });

  router.Add("POST", "/api/logout",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session&) {
               absl::Status s = ctx.accounts->LogOut(req.Cookie(kSessionCookie));
               if (!s.ok()) return FromStatus(s);
               Response res = JsonResponse(200, nlohmann::json::object());
               res.headers.Add("Set-Cookie", ClearedSessionCookie(ctx, req));
               return res;
             }));

  router.Add(
      "POST", "/api/password", WithSession(ctx, [&ctx](Request& req, const accounts::Session&) {
        absl::StatusOr<nlohmann::json> body = ParseJsonBody(req);
        if (!body.ok()) return FromStatus(body.status());
        absl::StatusOr<std::string> old_pw = JsonString(*body, "old");
        absl::StatusOr<std::string> new_pw = JsonString(*body, "new");
        if (!old_pw.ok()) return FromStatus(old_pw.status());
        if (!new_pw.ok()) return FromStatus(new_pw.status());
        absl::Status s = ctx.accounts->ChangePassword(req.Cookie(kSessionCookie), *old_pw, *new_pw);
        if (absl::IsUnauthenticated(s)) {
          return ErrorResponse(401, "current password is wrong");
        }
        if (!s.ok()) return CredentialsError(s);
        return JsonResponse(200, nlohmann::json::object());
      }));

  // Every page asks this once it loads, so it is answered without a worker thread when the
  // session read allows. Emplaced, not an initializer list, which builds each member as a
  // two-element array and copies it into the object.
  SessionHandler me = [&ctx](Request&, const accounts::Session& s) {
    nlohmann::json answer = nlohmann::json::object();
    answer.emplace("username", s.username);
    answer.emplace("csrf", s.csrf);
    answer.emplace("admin", s.admin);
    answer.emplace("email", absl::StrCat(s.username, "@", ctx.mail_domain));
    return JsonResponse(200, answer);
  };
  router.AddWithFastPath("GET", "/api/me", SessionFastPath(ctx, me), WithSession(ctx, me));
}

}  // namespace penncloud::frontend
