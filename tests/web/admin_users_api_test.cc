// The console's user list (GET /api/admin/users, docs/admin.md "Users list") on real
// processes over a sharded store (config group + 2 data groups of kvs_server, the
// coordinator, one frontend): accounts made every way are listed, whichever group holds
// their rows.
// - Accounts older than the list (their row written, no list entry, as before it existed)
//   are put in the store before the coordinator starts; its one-time backfill lists them.
// - Then: concurrent sign-ups from several clients, accounts made by the admin
//   (POST /api/admin/users), and sign-ups with invites under the invite-only policy.
// - The list is read a page at a time (7 per page) and by name prefix, and holds each
//   account exactly once.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "accounts/accounts.h"
#include "accounts/rows.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "nlohmann/json.hpp"
#include "tests/support/kvs_cluster.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"
#include "tests/web/http_client.h"

namespace penncloud::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kAdminPassword[] = "admin-users-pw";
constexpr int kOldAccounts = 12;
constexpr int kSignUpThreads = 4;
constexpr int kSignUpsEach = 8;

// A client with a session: the cookie in its jar, the CSRF token sent on every call.
struct Browser {
  explicit Browser(int port) : http(port, 15000) {}

  HttpResponse Send(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!csrf.empty()) headers["X-CSRF-Token"] = csrf;
    absl::StatusOr<HttpResponse> r = http.Send(method, target, body, headers);
    return r.ok() ? *r : HttpResponse{.status = 0, .headers = {}, .body = r.status().ToString()};
  }
  // Signs up or logs in; false unless the server started a session.
  bool Enter(const std::string& path, const json& body) {
    HttpResponse r = Send("POST", path, body.dump());
    if (r.status != 200 && r.status != 201) return false;
    csrf = json::parse(r.body)["csrf"];
    return true;
  }

  HttpClient http;
  std::string csrf;
};

class AdminUsersApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("penncloud-admin-users");
    KvsClusterOptions options;
    options.data_groups = 2;
    auto kvs = KvsCluster::Start(options);
    ASSERT_TRUE(kvs.ok()) << kvs.status();
    kvs_ = std::move(*kvs);
    ASSERT_TRUE(kvs_->Initialize({1, 2}).ok());
    ASSERT_TRUE(kvs_->WaitForMap(1).ok());
    TestPki::Shared();  // this process's own certificate for the store
    auto store = kvs::Connect(kvs_->spec());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    processes_.clear();
    kvs_.reset();
    RemoveTestDir(dir_);
  }

  void StartWebTier() {
    std::ofstream(dir_ + "/admin-password") << kAdminPassword << "\n";
    http_port_ = FreePort();
    const int grpc_port = FreePort();
    Launch("coordinator", http_port_,
           {absl::StrCat("--http_port=", http_port_), absl::StrCat("--grpc_port=", grpc_port),
            "--kvs=" + kvs_->spec(), "--admin_password_file=" + dir_ + "/admin-password",
            "--web_root=" + SourcePath("web"), "--io_threads=1",
            // every sign-up below comes from 127.0.0.1
            "--signups_per_hour_per_address=1000"});
    const int port = FreePort();
    Launch("frontend", port,
           {absl::StrCat("--port=", port), "--kvs=" + kvs_->spec(),
            absl::StrCat("--coordinator=127.0.0.1:", grpc_port), "--web_root=" + SourcePath("web"),
            "--io_threads=1", "--workers=8"});
  }
  void Launch(const std::string& binary, int port, std::vector<std::string> args) {
    auto p = Process::Start(BinaryPath(binary), args, dir_ + "/" + binary + ".log");
    ASSERT_TRUE(p.ok()) << p.status();
    processes_.push_back(std::move(*p));
    ASSERT_TRUE(WaitForPort(port)) << binary << " did not listen";
  }

  // The admin's browser, once the coordinator has made the account and routes to the
  // frontend (both take a moment after start).
  void AdminLogIn(Browser& admin) {
    const json creds = {{"username", "admin"}, {"password", kAdminPassword}};
    for (int i = 0; i < 150 && !admin.Enter("/api/login", creds); ++i) {
      std::this_thread::sleep_for(milliseconds(200));
    }
    ASSERT_FALSE(admin.csrf.empty()) << "the admin never logged in";
  }

  // Every user of the list with name prefix `q`, read `limit` at a time.
  std::vector<std::string> ListAll(Browser& admin, const std::string& q, int limit) {
    std::vector<std::string> names;
    std::string after;
    for (int page = 0; page < 200; ++page) {
      HttpResponse r = admin.Send(
          "GET", absl::StrCat("/api/admin/users?q=", q, "&after=", after, "&limit=", limit));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      json body = json::parse(r.body);
      EXPECT_LE(body["users"].size(), static_cast<size_t>(limit));
      for (const json& u : body["users"]) names.push_back(u["username"]);
      if (body["next"].is_null()) break;
      after = body["next"];
    }
    return names;
  }

  // The account rows ("acct/...") group `group` holds, read through the console.
  int AccountRowsIn(Browser& admin, int group) {
    int count = 0;
    std::string after;
    for (int page = 0; page < 100; ++page) {
      HttpResponse r = admin.Send(
          "GET", absl::StrCat("/api/admin/data/", group,
                              "/rows?limit=200&after=", absl::WebSafeBase64Escape(after)));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      json body = json::parse(r.body);
      for (const json& row : body["rows"]) {
        if (row["text"].is_string() && row["text"].get<std::string>().starts_with("acct/")) {
          ++count;
        }
      }
      if (body["next"].is_null()) break;
      std::string key = body["next"];
      EXPECT_TRUE(absl::Base64Unescape(key, &after));
    }
    return count;
  }

  std::string dir_;
  std::unique_ptr<KvsCluster> kvs_;
  std::unique_ptr<kvs::Client> store_;
  std::vector<Process> processes_;
  int http_port_ = 0;
};

TEST_F(AdminUsersApiTest, EveryAccountIsListedHoweverItWasMade) {
  std::set<std::string> expected = {"admin"};
  // Accounts from before the list: made, then their list entry taken away.
  accounts::Accounts direct(store_.get(), {.hash_params = accounts::kTestHashParams});
  for (int i = 0; i < kOldAccounts; ++i) {
    std::string name = absl::StrCat("old", i);
    ASSERT_TRUE(direct.SignUp(name, "password1").ok());
    ASSERT_TRUE(store_->Delete(accounts::rows::kUsers, name).ok());
    expected.insert(name);
  }
  StartWebTier();
  Browser admin(http_port_);
  AdminLogIn(admin);
  // The backfill runs once the coordinator has polled the groups: wait for it, bounded.
  const auto deadline = steady_clock::now() + std::chrono::seconds(60);
  std::vector<std::string> old;
  while (steady_clock::now() < deadline) {
    old = ListAll(admin, "old", 50);
    if (old.size() == kOldAccounts) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_EQ(old.size(), static_cast<size_t>(kOldAccounts));

  // Sign-ups from several clients at once.
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < kSignUpThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSignUpsEach; ++i) {
        Browser b(http_port_);
        std::string name = absl::StrCat("new", t, "x", i);
        if (!b.Enter("/api/signup", {{"username", name}, {"password", "password1"}})) ++failed;
      }
    });
  }
  for (int t = 0; t < kSignUpThreads; ++t) {
    for (int i = 0; i < kSignUpsEach; ++i) expected.insert(absl::StrCat("new", t, "x", i));
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failed, 0);

  // Made by the admin: a plain user and another admin; a taken name and bad bodies refused.
  for (const auto& [name, make_admin] : {std::pair{"staff1", false}, std::pair{"staff2", true}}) {
    HttpResponse r = admin.Send(
        "POST", "/api/admin/users",
        json{{"username", name}, {"password", "password1"}, {"admin", make_admin}}.dump());
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(json::parse(r.body)["admin"], make_admin);
    expected.insert(name);
  }
  EXPECT_EQ(
      admin.Send("POST", "/api/admin/users", R"({"username":"staff1","password":"password1"})")
          .status,
      409);
  EXPECT_EQ(admin.Send("POST", "/api/admin/users", R"({"username":"staff3"})").status, 400);
  EXPECT_EQ(admin
                .Send("POST", "/api/admin/users",
                      R"({"username":"staff3","password":"password1","admin":"yes"})")
                .status,
            400);
  EXPECT_EQ(
      admin.Send("POST", "/api/admin/users", R"({"username":"3x","password":"password1"})").status,
      400);
  Browser stranger(http_port_);
  ASSERT_TRUE(stranger.Enter("/api/login", {{"username", "old1"}, {"password", "password1"}}));
  EXPECT_EQ(
      stranger.Send("POST", "/api/admin/users", R"({"username":"sneak","password":"pw12345678"})")
          .status,
      403);
  Browser staff(http_port_);
  EXPECT_TRUE(staff.Enter("/api/login", {{"username", "staff2"}, {"password", "password1"}}));

  // Invite-only sign-up: each invite makes one account.
  ASSERT_EQ(admin.Send("PUT", "/api/admin/signup", R"({"policy":"invite"})").status, 200);
  for (const char* name : {"guest1", "guest2"}) {
    HttpResponse invite = admin.Send("POST", "/api/admin/invites", "{}");
    ASSERT_EQ(invite.status, 201) << invite.body;
    Browser b(http_port_);
    ASSERT_TRUE(b.Enter("/api/signup", {{"username", name},
                                        {"password", "password1"},
                                        {"invite", json::parse(invite.body)["token"]}}));
    expected.insert(name);
  }
  Browser uninvited(http_port_);
  EXPECT_FALSE(
      uninvited.Enter("/api/signup", {{"username", "gatecrash"}, {"password", "password1"}}));

  // The whole list, a page at a time: each account once, in name order.
  std::vector<std::string> all = ListAll(admin, "", 7);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), expected);
  EXPECT_EQ(all.size(), expected.size());
  // By prefix, case-insensitively.
  EXPECT_EQ(ListAll(admin, "NEW1", 3),
            (std::vector<std::string>{"new1x0", "new1x1", "new1x2", "new1x3", "new1x4", "new1x5",
                                      "new1x6", "new1x7"}));
  EXPECT_EQ(ListAll(admin, "staff", 100), (std::vector<std::string>{"staff1", "staff2"}));
  EXPECT_TRUE(ListAll(admin, "gatecrash", 100).empty());

  // The accounts really are spread over both groups: no one group's rows could list them.
  EXPECT_GT(AccountRowsIn(admin, 1), 0);
  EXPECT_GT(AccountRowsIn(admin, 2), 0);
  EXPECT_EQ(AccountRowsIn(admin, 1) + AccountRowsIn(admin, 2), static_cast<int>(expected.size()));
}

}  // namespace
}  // namespace penncloud::testing
