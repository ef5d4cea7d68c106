#include "frontend/accounts_api.h"

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
  }

  Response Call(std::string method, std::string target, std::string body = "",
                std::string cookie = "", std::string csrf = "") {
    Request req;
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
