// The accounts API against real processes: a KVS group, the coordinator and two frontends.
// Requests go through :8000 unless a test needs a specific frontend (to show a session
// made on one frontend works on another).
#include <memory>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/web/http_client.h"
#include "tests/web/web_cluster.h"

namespace penncloud::testing {
namespace {

using nlohmann::json;

class WebApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = WebCluster::Start({.frontends = 2});
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = c->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static HttpResponse Must(absl::StatusOr<HttpResponse> r) {
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : HttpResponse{};
  }

  static std::string Creds(const std::string& user, const std::string& pw) {
    return json{{"username", user}, {"password", pw}}.dump();
  }

  static WebCluster* cluster_;
};
WebCluster* WebApiTest::cluster_ = nullptr;

TEST_F(WebApiTest, SignUpSetsSessionCookieWithSafeFlags) {
  HttpClient c(cluster_->http_port());
  HttpResponse r = Must(c.Send("POST", "/api/signup", Creds("alice", "password1")));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["username"], "alice");
  std::string cookie = r.Header("Set-Cookie");
  EXPECT_TRUE(cookie.starts_with("pc_session=")) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Max-Age="), std::string::npos) << cookie;
  r = Must(c.Send("GET", "/api/me"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["username"], "alice");
}

TEST_F(WebApiTest, DuplicateSignUpIs409) {
  HttpClient c(cluster_->http_port());
  ASSERT_EQ(Must(c.Send("POST", "/api/signup", Creds("bob", "password1"))).status, 201);
  HttpClient d(cluster_->http_port());
  HttpResponse r = Must(d.Send("POST", "/api/signup", Creds("Bob", "password2")));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json::parse(r.body)["error"], "username is taken");
  EXPECT_EQ(Must(d.Send("POST", "/api/signup", Creds("x", "password2"))).status, 400);
}

TEST_F(WebApiTest, BadPasswordIs401AndSessionWorksOnEveryFrontend) {
  HttpClient c(cluster_->http_port());
  ASSERT_EQ(Must(c.Send("POST", "/api/signup", Creds("carol", "password1"))).status, 201);
  HttpClient d(cluster_->http_port());
  HttpResponse bad = Must(d.Send("POST", "/api/login", Creds("carol", "password9")));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(json::parse(bad.body)["error"], "wrong username or password");
  EXPECT_EQ(bad.Header("Set-Cookie"), "");
  HttpResponse ok = Must(d.Send("POST", "/api/login", Creds("carol", "password1")));
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body)["username"], "carol");
  EXPECT_FALSE(json::parse(ok.body)["csrf"].get<std::string>().empty());
  // Sessions live in the KVS: each frontend directly accepts the cookie.
  for (int i = 0; i < 2; ++i) {
    HttpClient direct(cluster_->frontend_port(i));
    direct.jar() = d.jar();
    HttpResponse me = Must(direct.Send("GET", "/api/me"));
    EXPECT_EQ(me.status, 200) << "frontend " << i;
  }
}

TEST_F(WebApiTest, StateChangesWithoutCsrfTokenAre403) {
  HttpClient c(cluster_->http_port());
  HttpResponse r = Must(c.Send("POST", "/api/signup", Creds("dave", "password1")));
  ASSERT_EQ(r.status, 201);
  std::string csrf = json::parse(r.body)["csrf"];
  EXPECT_EQ(Must(c.Send("POST", "/api/logout")).status, 403);
  EXPECT_EQ(Must(c.Send("POST", "/api/logout", "", {{"X-CSRF-Token", "forged"}})).status, 403);
  EXPECT_EQ(
      Must(c.Send("POST", "/api/password", R"({"old":"password1","new":"password2"})")).status,
      403);
  // Still logged in: nothing happened.
  EXPECT_EQ(Must(c.Send("GET", "/api/me")).status, 200);
  EXPECT_EQ(Must(c.Send("POST", "/api/logout", "", {{"X-CSRF-Token", csrf}})).status, 200);
}

TEST_F(WebApiTest, LogoutEndsTheSession) {
  HttpClient c(cluster_->http_port());
  HttpResponse r = Must(c.Send("POST", "/api/signup", Creds("erin", "password1")));
  ASSERT_EQ(r.status, 201);
  std::string csrf = json::parse(r.body)["csrf"];
  auto stolen = c.jar();  // a copy of the cookie, as if kept by someone else
  HttpResponse out = Must(c.Send("POST", "/api/logout", "", {{"X-CSRF-Token", csrf}}));
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.Header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Must(c.Send("GET", "/api/me")).status, 401);
  HttpClient other(cluster_->http_port());
  other.jar() = stolen;
  EXPECT_EQ(Must(other.Send("GET", "/api/me")).status, 401);
}

TEST_F(WebApiTest, PasswordChangeEndsOtherSessions) {
  HttpClient a(cluster_->http_port());
  HttpResponse r = Must(a.Send("POST", "/api/signup", Creds("frank", "password1")));
  ASSERT_EQ(r.status, 201);
  std::string csrf = json::parse(r.body)["csrf"];
  HttpClient b(cluster_->http_port());
  ASSERT_EQ(Must(b.Send("POST", "/api/login", Creds("frank", "password1"))).status, 200);

  HttpResponse wrong =
      Must(a.Send("POST", "/api/password", R"({"old":"not-it-at-all","new":"password2"})",
                  {{"X-CSRF-Token", csrf}}));
  EXPECT_EQ(wrong.status, 401);
  HttpResponse ok = Must(a.Send("POST", "/api/password", R"({"old":"password1","new":"password2"})",
                                {{"X-CSRF-Token", csrf}}));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Must(a.Send("GET", "/api/me")).status, 200);
  EXPECT_EQ(Must(b.Send("GET", "/api/me")).status, 401);
  HttpClient c(cluster_->http_port());
  EXPECT_EQ(Must(c.Send("POST", "/api/login", Creds("frank", "password1"))).status, 401);
  EXPECT_EQ(Must(c.Send("POST", "/api/login", Creds("frank", "password2"))).status, 200);
}

TEST_F(WebApiTest, PagesCarrySecurityHeadersAndAdminIsClosed) {
  HttpClient c(cluster_->http_port());
  HttpResponse page = Must(c.Send("GET", "/login"));
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.Header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page.Header("X-Frame-Options"), "DENY");
  EXPECT_EQ(page.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);  // no inline scripts
  HttpResponse css = Must(c.Send("GET", "/assets/css/bootstrap.min.css"));
  EXPECT_EQ(css.status, 200);
  EXPECT_GT(css.body.size(), 10000u);
  EXPECT_EQ(Must(c.Send("GET", "/static/../../etc/passwd")).status, 404);
  // /admin belongs to the coordinator: closed to anonymous and ordinary users.
  EXPECT_EQ(Must(c.Send("GET", "/admin")).status, 403);
  ASSERT_EQ(Must(c.Send("POST", "/api/signup", Creds("gina", "password1"))).status, 201);
  EXPECT_EQ(Must(c.Send("GET", "/admin")).status, 403);
  EXPECT_EQ(Must(c.Send("GET", "/api/admin/nodes")).status, 403);
}

}  // namespace
}  // namespace penncloud::testing
