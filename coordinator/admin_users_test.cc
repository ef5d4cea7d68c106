// The console's user routes over an in-memory store, called through the router as the
// coordinator serves them: only an admin session gets in, changes need its CSRF token, and
// a disabled user is logged out and cannot log in again until enabled.
#include "coordinator/admin_users.h"

#include "frontend/accounts_api.h"
#include "frontend/password_reset_api.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::coordinator {
namespace {

using http::Request;
using http::Response;

struct Login {
  std::string cookie;
  std::string csrf;
};

class AdminUsersTest : public ::testing::Test {
 protected:
  AdminUsersTest()
      : accounts_(&store_, accounts::Options{.hash_params = accounts::kTestHashParams}) {
    ctx_.store = &store_;
    ctx_.accounts = &accounts_;
    frontend::RegisterAccountRoutes(router_, ctx_);
    frontend::RegisterPasswordResetRoutes(router_, ctx_);
    RegisterUserAdminRoutes(router_, ctx_);
    EXPECT_TRUE(accounts_.SignUp("root", "password1", /*admin=*/true).ok());
    for (const char* name : {"alice", "alfred", "bob"}) {
      EXPECT_TRUE(accounts_.SignUp(name, "password1").ok());
    }
  }

  Response Call(std::string method, std::string target, const Login& as = {}, std::string body = "",
                bool with_csrf = true) {
    Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    if (!as.cookie.empty()) req.headers.Add("Cookie", "pc_session=" + as.cookie);
    if (with_csrf && !as.csrf.empty()) req.headers.Add("X-CSRF-Token", as.csrf);
    http::ParseTarget(req);
    return router_.Dispatch(req);
  }

  Response LogInAs(const std::string& user, Login* out = nullptr) {
    Response res =
        Call("POST", "/api/login", {}, R"({"username":")" + user + R"(","password":"password1"})");
    if (res.status == 200 && out != nullptr) {
      std::string c(res.headers.Get("Set-Cookie"));
      size_t eq = c.find('='), semi = c.find(';');
      out->cookie = c.substr(eq + 1, semi - eq - 1);
      out->csrf = nlohmann::json::parse(res.body)["csrf"];
    }
    return res;
  }

  static std::vector<std::string> Names(const Response& res) {
    std::vector<std::string> names;
    const nlohmann::json body = nlohmann::json::parse(res.body);
    for (const auto& u : body["users"]) names.push_back(u["username"]);
    return names;
  }

  kvs::MemoryClient store_;
  accounts::Accounts accounts_;
  frontend::ApiContext ctx_;
  http::Router router_;
};

TEST_F(AdminUsersTest, OnlyAnAdminSessionGetsIn) {
  Login bob, root;
  ASSERT_EQ(LogInAs("bob", &bob).status, 200);
  ASSERT_EQ(LogInAs("root", &root).status, 200);
  EXPECT_EQ(Call("GET", "/api/admin/users").status, 403);
  EXPECT_EQ(Call("GET", "/api/admin/users", bob).status, 403);
  EXPECT_EQ(Call("POST", "/api/admin/users/alice/disabled", bob, R"({"disabled":true})").status,
            403);
  EXPECT_EQ(Call("POST", "/api/admin/users/bob/admin", bob, R"({"admin":true})").status, 403);
  // The admin's own change without the CSRF token is refused too.
  EXPECT_EQ(Call("POST", "/api/admin/users/alice/disabled", root, R"({"disabled":true})",
                 /*with_csrf=*/false)
                .status,
            403);
  EXPECT_FALSE(*accounts_.IsDisabled("alice"));
  EXPECT_EQ(Call("GET", "/api/admin/users", root).status, 200);
}

TEST_F(AdminUsersTest, ListIsPagedAndSearchedByPrefix) {
  Login root;
  ASSERT_EQ(LogInAs("root", &root).status, 200);
  Response page = Call("GET", "/api/admin/users?limit=2", root);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(Names(page), (std::vector<std::string>{"alfred", "alice"}));
  auto body = nlohmann::json::parse(page.body);
  EXPECT_EQ(body["next"], "alice");
  page = Call("GET", "/api/admin/users?limit=2&after=alice", root);
  EXPECT_EQ(Names(page), (std::vector<std::string>{"bob", "root"}));
  EXPECT_TRUE(nlohmann::json::parse(page.body)["next"].is_null());
  page = Call("GET", "/api/admin/users?q=AL", root);
  EXPECT_EQ(Names(page), (std::vector<std::string>{"alfred", "alice"}));
  auto root_row = nlohmann::json::parse(Call("GET", "/api/admin/users?q=root", root).body);
  EXPECT_EQ(root_row["users"][0]["admin"], true);
  EXPECT_EQ(Call("GET", "/api/admin/users?limit=0", root).status, 400);
  EXPECT_EQ(Call("GET", "/api/admin/users?limit=x", root).status, 400);
}

TEST_F(AdminUsersTest, AnAdminMakesAccountsWhateverTheSignUpPolicy) {
  Login root, bob;
  ASSERT_EQ(LogInAs("root", &root).status, 200);
  ASSERT_EQ(LogInAs("bob", &bob).status, 200);
  Response made = Call("POST", "/api/admin/users", root,
                       R"({"username":"Carol","password":"password1","admin":true})");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(nlohmann::json::parse(made.body)["username"], "carol");
  EXPECT_EQ(nlohmann::json::parse(made.body)["admin"], true);
  EXPECT_EQ(LogInAs("carol").status, 200);
  EXPECT_EQ(Names(Call("GET", "/api/admin/users?q=c", root)), (std::vector<std::string>{"carol"}));
  made = Call("POST", "/api/admin/users", root, R"({"username":"dan","password":"password1"})");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(nlohmann::json::parse(made.body)["admin"], false);

  EXPECT_EQ(
      Call("POST", "/api/admin/users", root, R"({"username":"bob","password":"password1"})").status,
      409);
  for (const char* bad : {R"({"username":"erin"})", R"({"password":"password1"})",
                          R"({"username":"erin","password":"short"})",
                          R"({"username":"9lives","password":"password1"})",
                          R"({"username":"erin","password":"password1","admin":1})",
                          R"({"username":"erin","password":"password1","admn":true})", "[]"}) {
    EXPECT_EQ(Call("POST", "/api/admin/users", root, bad).status, 400) << bad;
  }
  EXPECT_EQ(
      Call("POST", "/api/admin/users", bob, R"({"username":"erin","password":"password1"})").status,
      403);
  EXPECT_EQ(Call("POST", "/api/admin/users", root, R"({"username":"erin","password":"password1"})",
                 /*with_csrf=*/false)
                .status,
            403);
  EXPECT_FALSE(*accounts_.Exists("erin"));
}

TEST_F(AdminUsersTest, ADisabledUserIsLoggedOutAndCannotLogInUntilEnabled) {
  Login root, alice;
  ASSERT_EQ(LogInAs("root", &root).status, 200);
  ASSERT_EQ(LogInAs("alice", &alice).status, 200);
  ASSERT_EQ(Call("GET", "/api/me", alice).status, 200);

  Response res = Call("POST", "/api/admin/users/alice/disabled", root, R"({"disabled":true})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(nlohmann::json::parse(res.body)["disabled"], true);
  EXPECT_EQ(Call("GET", "/api/me", alice).status, 401);
  res = LogInAs("alice");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "this account is disabled");

  ASSERT_EQ(Call("POST", "/api/admin/users/alice/disabled", root, R"({"disabled":false})").status,
            200);
  EXPECT_EQ(LogInAs("alice").status, 200);
}

TEST_F(AdminUsersTest, AdminFlagAndTheRulesThatKeepTheConsoleReachable) {
  Login root, bob;
  ASSERT_EQ(LogInAs("root", &root).status, 200);
  ASSERT_EQ(LogInAs("bob", &bob).status, 200);
  EXPECT_EQ(Call("POST", "/api/admin/users/root/disabled", root, R"({"disabled":true})").status,
            409);
  EXPECT_EQ(Call("POST", "/api/admin/users/root/admin", root, R"({"admin":false})").status, 409);
  EXPECT_EQ(Call("POST", "/api/admin/users/nobody/admin", root, R"({"admin":true})").status, 404);
  EXPECT_EQ(Call("POST", "/api/admin/users/nobody/disabled", root, R"({"disabled":true})").status,
            404);
  EXPECT_EQ(Call("POST", "/api/admin/users/bob/admin", root, R"({"admin":"yes"})").status, 400);

  ASSERT_EQ(Call("POST", "/api/admin/users/bob/admin", root, R"({"admin":true})").status, 200);
  EXPECT_EQ(Call("GET", "/api/admin/users", bob).status, 200);  // checked per request
  ASSERT_EQ(Call("POST", "/api/admin/users/bob/admin", root, R"({"admin":false})").status, 200);
  EXPECT_EQ(Call("GET", "/api/admin/users", bob).status, 403);
}

TEST_F(AdminUsersTest, OnlyAnAdminMakesResetLinksOrSeesAndSetsQuotas) {
  Login bob, root;
  ASSERT_EQ(LogInAs("bob", &bob).status, 200);
  ASSERT_EQ(LogInAs("root", &root).status, 200);
  EXPECT_EQ(Call("POST", "/api/admin/users/alice/reset", bob, "{}").status, 403);
  EXPECT_EQ(Call("GET", "/api/admin/users/alice/drive", bob).status, 403);
  EXPECT_EQ(Call("PUT", "/api/admin/users/alice/drive", bob, R"({"quota":1})").status, 403);
  EXPECT_EQ(Call("POST", "/api/admin/users/alice/reset", root, "{}", /*with_csrf=*/false).status,
            403);
  EXPECT_EQ(Call("POST", "/api/admin/users/nobody/reset", root, "{}").status, 404);
  EXPECT_EQ(Call("POST", "/api/admin/users/alice/reset", root, R"({"hours":0})").status, 400);
  EXPECT_EQ(Call("POST", "/api/admin/users/alice/reset", root, R"({"hours":169})").status, 400);
  EXPECT_EQ(Call("GET", "/api/admin/users/nobody/drive", root).status, 404);
}

TEST_F(AdminUsersTest, AResetLinkWorksOnceAndEndsTheUsersSessions) {
  Login root, alice;
  ASSERT_EQ(LogInAs("root", &root).status, 200);
  ASSERT_EQ(LogInAs("alice", &alice).status, 200);
  Response made = Call("POST", "/api/admin/users/Alice/reset", root, R"({"hours":2})");
  ASSERT_EQ(made.status, 201) << made.body;
  auto link = nlohmann::json::parse(made.body);
  const std::string token = link["token"];
  EXPECT_EQ(link["url"], "/reset?token=" + token);
  EXPECT_EQ(link["username"], "alice");

  const std::string use = R"({"token":")" + token + R"(","password":"brand-new-pw"})";
  Response check = Call("POST", "/api/password/reset/check", {}, R"({"token":")" + token + "\"}");
  ASSERT_EQ(check.status, 200) << check.body;
  EXPECT_EQ(nlohmann::json::parse(check.body)["username"], "alice");
  EXPECT_EQ(
      Call("POST", "/api/password/reset", {}, R"({"token":")" + token + R"(","password":"short"})")
          .status,
      400);
  Response done = Call("POST", "/api/password/reset", {}, use);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Call("GET", "/api/me", alice).status, 401);
  EXPECT_EQ(Call("POST", "/api/password/reset", {}, use).status, 404);
  Response fresh =
      Call("POST", "/api/login", {}, R"({"username":"alice","password":"brand-new-pw"})");
  EXPECT_EQ(fresh.status, 200);
}

TEST_F(AdminUsersTest, WrongResetTokensAreLimitedPerAddress) {
  const std::string wrong = R"({"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})";
  for (int i = 0; i < frontend::kMaxResetGuesses; ++i) {
    ASSERT_EQ(Call("POST", "/api/password/reset/check", {}, wrong).status, 404) << i;
  }
  Response limited = Call("POST", "/api/password/reset/check", {}, wrong);
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.headers.Get("Retry-After").empty());
}

TEST_F(AdminUsersTest, QuotaIsShownAndSetWithinBounds) {
  Login root;
  ASSERT_EQ(LogInAs("root", &root).status, 200);
  Response usage = Call("GET", "/api/admin/users/alice/drive", root);
  ASSERT_EQ(usage.status, 200) << usage.body;
  EXPECT_EQ(nlohmann::json::parse(usage.body)["used"], 0);
  EXPECT_EQ(nlohmann::json::parse(usage.body)["quota"], uint64_t{10} << 30);
  for (const char* bad : {R"({"quota":-1})", R"({"quota":1.5})", R"({"quota":"1"})", R"({})",
                          R"({"quota":1125899906842625})"}) {
    EXPECT_EQ(Call("PUT", "/api/admin/users/alice/drive", root, bad).status, 400) << bad;
  }
  Response set = Call("PUT", "/api/admin/users/alice/drive", root, R"({"quota":1048576})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(nlohmann::json::parse(set.body)["quota"], 1048576);
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/api/admin/users/alice/drive", root).body)["quota"],
            1048576);
  EXPECT_EQ(Call("PUT", "/api/admin/users/nobody/drive", root, R"({"quota":1})").status, 404);
}

}  // namespace
}  // namespace penncloud::coordinator
