// WebDAV's login cache: verified Basic credentials are remembered (Argon2 is slow), but a
// password change ends the old password at once, on every frontend.
#include "frontend/webdav.h"

#include "absl/strings/escaping.h"
#include "accounts/accounts.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::frontend {
namespace {

// One frontend's routes over the shared store: its own WebDAV login cache.
struct Frontend {
  explicit Frontend(kvs::Client* store, accounts::Accounts* accounts) {
    ctx.store = store;
    ctx.accounts = accounts;
    RegisterWebDavRoutes(router, ctx);
  }
  int Propfind(const std::string& user, const std::string& password) {
    Request req;
    req.method = "PROPFIND";
    req.target = "/dav/";
    ParseTarget(req);
    req.headers.Add("Depth", "0");
    req.headers.Add("Authorization", "Basic " + absl::Base64Escape(user + ":" + password));
    return router.Dispatch(req).status;
  }
  ApiContext ctx;
  Router router;
};

TEST(WebDavLogin, OldPasswordStopsAtOnceOnEveryFrontend) {
  kvs::MemoryClient store;
  accounts::Accounts accounts(&store, accounts::Options{.hash_params = accounts::kTestHashParams});
  ASSERT_TRUE(accounts.SignUp("carol", "password-old").ok());
  Frontend a(&store, &accounts);
  Frontend b(&store, &accounts);
  EXPECT_EQ(a.Propfind("carol", "password-old"), 207);
  EXPECT_EQ(b.Propfind("carol", "password-old"), 207);
  EXPECT_EQ(a.Propfind("Carol", "password-old"), 207);  // names are case-insensitive

  auto login = accounts.LogIn("carol", "password-old");
  ASSERT_TRUE(login.ok());
  ASSERT_TRUE(accounts.ChangePassword(login->token, "password-old", "password-new").ok());

  // Both frontends had the old password cached; neither takes it any more.
  EXPECT_EQ(a.Propfind("carol", "password-old"), 401);
  EXPECT_EQ(b.Propfind("carol", "password-old"), 401);
  EXPECT_EQ(a.Propfind("Carol", "password-old"), 401);
  EXPECT_EQ(a.Propfind("carol", "password-new"), 207);
  EXPECT_EQ(b.Propfind("carol", "password-new"), 207);
  EXPECT_EQ(a.Propfind("carol", "wrong"), 401);
}

}  // namespace
}  // namespace penncloud::frontend
