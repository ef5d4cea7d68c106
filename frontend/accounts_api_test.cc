#include "frontend/accounts_api.h"

#include "accounts/base32.h"
#include "accounts/totp.h"
#include "frontend/account_settings_api.h"
#include "frontend/signup_policy.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::frontend {
namespace {

class AccountsApiTest : public ::testing::Test {
 protected:
  AccountsApiTest()
      : accounts_(&store_, accounts::Options{.hash_params = accounts::kTestHashParams}) {
    ctx_.store = &store_;
    ctx_.accounts = &accounts_;
    RegisterAccountRoutes(router_, ctx_);
    RegisterAccountSettingsRoutes(router_, ctx_);
  }

  Response Call(std::string method, std::string target, std::string body = "",
                std::string cookie = "", std::string csrf = "", std::string user_agent = "") {
    Request req;
    if (!user_agent.empty()) req.headers.Add("User-Agent", user_agent);
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    if (!cookie.empty()) req.headers.Add("Cookie", "pc_session=" + cookie);
    if (!csrf.empty()) req.headers.Add("X-CSRF-Token", csrf);
    ParseTarget(req);
    return router_.Dispatch(req);
  }

  static std::string TokenOf(const Response& res) {
    std::string c(res.headers.Get("Set-Cookie"));
    size_t eq = c.find('='), semi = c.find(';');
    return c.substr(eq + 1, semi - eq - 1);
  }

  kvs::MemoryClient store_;
  accounts::Accounts accounts_;
  ApiContext ctx_;
  Router router_;
};

TEST_F(AccountsApiTest, SignUpSetsAStrictHttpOnlyCookie) {
  Response res = Call("POST", "/api/signup", R"({"username":"alice","password":"password1"})");
  ASSERT_EQ(res.status, 201) << res.body;
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["username"], "alice");
  EXPECT_EQ(body["csrf"].get<std::string>().size(), 43u);
  std::string cookie(res.headers.Get("Set-Cookie"));
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Path=/"), std::string::npos);
  EXPECT_NE(cookie.find("Max-Age=6047"), std::string::npos);  // ~7 days
  EXPECT_EQ(Call("POST", "/api/signup", R"({"username":"alice","password":"password2"})").status,
            409);
  EXPECT_EQ(Call("POST", "/api/signup", R"({"username":"alice"})").status, 400);
  EXPECT_EQ(Call("POST", "/api/signup", "not json").status, 400);
}

TEST_F(AccountsApiTest, LoginMeLogoutWithCsrf) {
  ASSERT_EQ(Call("POST", "/api/signup", R"({"username":"bob","password":"password1"})").status,
            201);
  EXPECT_EQ(Call("POST", "/api/login", R"({"username":"bob","password":"wrong-pw"})").status, 401);
  Response login = Call("POST", "/api/login", R"({"username":"bob","password":"password1"})");
  ASSERT_EQ(login.status, 200);
  std::string token = TokenOf(login);
  std::string csrf = nlohmann::json::parse(login.body)["csrf"];

  Response me = Call("GET", "/api/me", "", token);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(nlohmann::json::parse(me.body)["username"], "bob");
  EXPECT_EQ(nlohmann::json::parse(me.body)["admin"], false);
  EXPECT_EQ(Call("GET", "/api/me").status, 401);

  EXPECT_EQ(Call("POST", "/api/logout", "", token).status, 403);
  EXPECT_EQ(Call("POST", "/api/logout", "", token, "wrong").status, 403);
  Response out = Call("POST", "/api/logout", "", token, csrf);
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(std::string(out.headers.Get("Set-Cookie")).find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/me", "", token).status, 401);
}

TEST_F(AccountsApiTest, PasswordChange) {
  Response signup = Call("POST", "/api/signup", R"({"username":"carol","password":"password1"})");
  std::string token = TokenOf(signup);
  std::string csrf = nlohmann::json::parse(signup.body)["csrf"];
  EXPECT_EQ(Call("POST", "/api/password", R"({"old":"password1","new":"password2"})", token).status,
            403);
  EXPECT_EQ(
      Call("POST", "/api/password", R"({"old":"nope-nope","new":"password2"})", token, csrf).status,
      401);
  EXPECT_EQ(
      Call("POST", "/api/password", R"({"old":"password1","new":"password2"})", token, csrf).status,
      200);
  EXPECT_EQ(Call("POST", "/api/login", R"({"username":"carol","password":"password2"})").status,
            200);
}

TEST_F(AccountsApiTest, SignUpFollowsTheAdminsPolicy) {
  SignupRules rules(&store_);
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/api/signup").body)["policy"], "open");

  ASSERT_TRUE(rules.SetPolicy(SignupPolicy::kClosed).ok());
  Response closed = Call("POST", "/api/signup", R"({"username":"dave","password":"password1"})");
  EXPECT_EQ(closed.status, 403);
  EXPECT_NE(nlohmann::json::parse(closed.body)["error"].get<std::string>().find("closed"),
            std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/api/signup").body)["policy"], "closed");

  ASSERT_TRUE(rules.SetPolicy(SignupPolicy::kInvite).ok());
  EXPECT_EQ(Call("POST", "/api/signup", R"({"username":"dave","password":"password1"})").status,
            403);
  EXPECT_EQ(Call("POST", "/api/signup",
                 R"({"username":"dave","password":"password1","invite":"made-up"})")
                .status,
            403);
  absl::StatusOr<Invite> invite = rules.CreateInvite("admin", absl::Hours(1));
  ASSERT_TRUE(invite.ok());
  auto with_invite = [&](const std::string& user) {
    return Call(
        "POST", "/api/signup",
        nlohmann::json{{"username", user}, {"password", "password1"}, {"invite", invite->token}}
            .dump());
  };
  ASSERT_EQ(Call("POST", "/api/signup", R"({"username":"erin","password":"password1"})").status,
            403);
  ASSERT_TRUE(accounts_.SignUp("taken", "password1").ok());
  EXPECT_EQ(with_invite("taken").status, 409);  // a failed sign-up gives the invite back
  EXPECT_EQ(with_invite("dave").status, 201);
  EXPECT_EQ(with_invite("erin").status, 403);  // used once only
  auto listed = rules.ListInvites();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  absl::StatusOr<Invite> stale =
      rules.CreateInvite("admin", absl::Hours(1), absl::Now() - absl::Hours(2));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(Call("POST", "/api/signup",
                 nlohmann::json{
                     {"username", "frank"}, {"password", "password1"}, {"invite", stale->token}}
                     .dump())
                .status,
            403);  // expired
}

}  // namespace
}  // namespace penncloud::frontend

namespace penncloud::frontend {
namespace {

using nlohmann::json;

// A logged-in user for the account-settings endpoints.
class AccountSettingsApiTest : public AccountsApiTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(Call("POST", "/api/signup", R"({"username":"carol","password":"password1"})").status,
              201);
    Response login = Call("POST", "/api/login", R"({"username":"carol","password":"password1"})",
                          "", "", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0");
    token_ = TokenOf(login);
    csrf_ = json::parse(login.body)["csrf"];
  }
  Response As(std::string method, std::string target, std::string body = "") {
    return Call(std::move(method), std::move(target), std::move(body), token_, csrf_);
  }
  // The current TOTP code of a base32 secret, `steps` steps from now.
  static std::string CodeFor(const std::string& secret, int steps = 0) {
    return accounts::HotpCode(*accounts::Base32Decode(secret),
                              static_cast<uint64_t>(accounts::TotpStep(absl::Now()) + steps));
  }

  std::string token_, csrf_;
};

TEST_F(AccountSettingsApiTest, AppPasswordsCreateListRevoke) {
  EXPECT_EQ(Call("POST", "/api/account/app-passwords", R"({"name":"Phone"})", token_).status, 403);
  EXPECT_EQ(Call("GET", "/api/account/app-passwords").status, 401);
  EXPECT_EQ(As("POST", "/api/account/app-passwords", R"({"name":""})").status, 400);
  EXPECT_EQ(As("POST", "/api/account/app-passwords", R"({"nom":"x"})").status, 400);
  Response made = As("POST", "/api/account/app-passwords", R"({"name":"Phone"})");
  ASSERT_EQ(made.status, 201) << made.body;
  json body = json::parse(made.body);
  std::string secret = body["password"], id = body["id"];
  EXPECT_EQ(body["name"], "Phone");
  EXPECT_EQ(accounts_.CheckPassword("carol", secret).value(), "carol");

  json list = json::parse(As("GET", "/api/account/app-passwords").body);
  ASSERT_EQ(list["app_passwords"].size(), 1u);
  EXPECT_EQ(list["app_passwords"][0]["id"], id);
  EXPECT_TRUE(list["app_passwords"][0].contains("last_used"));
  EXPECT_FALSE(list["app_passwords"][0].contains("password"));  // shown only once
  EXPECT_NE(list["app_passwords"][0]["last_used"], nullptr);    // used above

  EXPECT_EQ(Call("DELETE", "/api/account/app-passwords/" + id, "", token_).status, 403);
  EXPECT_EQ(As("DELETE", "/api/account/app-passwords/" + id).status, 200);
  EXPECT_EQ(As("DELETE", "/api/account/app-passwords/" + id).status, 404);
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.CheckPassword("carol", secret).status()));
}

TEST_F(AccountSettingsApiTest, TwoFactorEnrollLogInDisable) {
  EXPECT_EQ(json::parse(As("GET", "/api/account/two-factor").body)["enabled"], false);
  EXPECT_EQ(As("POST", "/api/account/two-factor/confirm", R"({"code":"123456"})").status, 409);
  Response setup = As("POST", "/api/account/two-factor/setup");
  ASSERT_EQ(setup.status, 200) << setup.body;
  json enrollment = json::parse(setup.body);
  std::string secret = enrollment["secret"];
  EXPECT_EQ(enrollment["uri"].get<std::string>().rfind("otpauth://totp/PennCloud:carol?", 0), 0u);
  EXPECT_EQ(enrollment["qr_svg"].get<std::string>().rfind("<svg", 0), 0u);
  EXPECT_EQ(As("POST", "/api/account/two-factor/confirm", R"({"code":"abc"})").status, 400);
  Response on =
      As("POST", "/api/account/two-factor/confirm", json{{"code", CodeFor(secret)}}.dump());
  ASSERT_EQ(on.status, 200) << on.body;
  std::vector<std::string> recovery = json::parse(on.body)["recovery_codes"];
  EXPECT_EQ(recovery.size(), 10u);

  // Login: the password answers "code required" and sets no cookie.
  Response first = Call("POST", "/api/login", R"({"username":"carol","password":"password1"})");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.Get("Set-Cookie"), "");
  json owed = json::parse(first.body);
  EXPECT_EQ(owed["code_required"], true);
  std::string ticket = owed["ticket"];
  EXPECT_EQ(
      Call("POST", "/api/login/code", json{{"ticket", ticket}, {"code", "000000"}}.dump()).status,
      401);
  EXPECT_EQ(Call("POST", "/api/login/code", R"({"ticket":"x"})").status, 400);
  Response done =
      Call("POST", "/api/login/code", json{{"ticket", ticket}, {"code", recovery[0]}}.dump());
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Call("GET", "/api/me", "", TokenOf(done)).status, 200);

  // Off only with the password and a code.
  EXPECT_EQ(As("POST", "/api/account/two-factor/disable",
               json{{"password", "password1"}, {"code", "000000"}}.dump())
                .status,
            401);
  EXPECT_EQ(As("POST", "/api/account/two-factor/disable",
               json{{"password", "password1"}, {"code", recovery[1]}}.dump())
                .status,
            200);
  EXPECT_EQ(json::parse(As("GET", "/api/account/two-factor").body)["enabled"], false);
}

TEST_F(AccountSettingsApiTest, SessionsListAndEnd) {
  Response other = Call("POST", "/api/login", R"({"username":"carol","password":"password1"})", "",
                        "", "curl/8.1");
  std::string other_token = TokenOf(other);
  json list = json::parse(As("GET", "/api/account/sessions").body);
  // Sign-up's own session, the Firefox login (this one, listed first) and curl's.
  ASSERT_EQ(list["sessions"].size(), 3u) << list.dump();
  EXPECT_EQ(list["sessions"][0]["current"], true);
  EXPECT_EQ(list["sessions"][0]["device"], "Firefox on Linux");
  std::string other_id;
  for (const json& s : list["sessions"]) {
    if (s["device"] == "curl") other_id = s["id"];
  }
  ASSERT_FALSE(other_id.empty()) << list.dump();
  EXPECT_EQ(As("DELETE", "/api/account/sessions/nope").status, 404);
  EXPECT_EQ(As("DELETE", "/api/account/sessions/" + other_id).status, 200);
  EXPECT_EQ(Call("GET", "/api/me", "", other_token).status, 401);

  Response third = Call("POST", "/api/login", R"({"username":"carol","password":"password1"})");
  EXPECT_EQ(As("POST", "/api/account/sessions/end-others").status, 200);
  EXPECT_EQ(Call("GET", "/api/me", "", TokenOf(third)).status, 401);
  EXPECT_EQ(Call("GET", "/api/me", "", token_).status, 200);
}

}  // namespace
}  // namespace penncloud::frontend
