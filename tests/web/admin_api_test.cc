// The admin API (docs/admin.md) against real processes: a config group and two data groups
// of kvs_server, the coordinator (with --run_dir), two frontends, SMTP and POP3, every one
// with a launch record, as scripts/start.sh leaves them. Requests go through :8000.
#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/shard/config_store.h"
#include "nlohmann/json.hpp"
#include "tests/support/kvs_cluster.h"
#include "tests/support/launch_record.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"
#include "tests/web/http_client.h"

namespace penncloud::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr char kAdminPassword[] = "admin-console-pw";

// The whole system, each process with a launch record in run_dir().
class AdminSystem {
 public:
  static absl::StatusOr<std::unique_ptr<AdminSystem>> Start() {
    std::unique_ptr<AdminSystem> s(new AdminSystem());
    s->dir_ = TempDir("penncloud-admin");
    s->run_dir_ = s->dir_ + "/run";
    KvsClusterOptions kvs_options;
    kvs_options.data_groups = 2;
    kvs_options.run_dir = s->run_dir_;
    auto kvs = KvsCluster::Start(kvs_options);
    if (!kvs.ok()) return kvs.status();
    s->kvs_ = std::move(*kvs);
    if (auto map = s->kvs_->Initialize({1, 2}); !map.ok()) return map.status();
    if (absl::Status st = s->kvs_->WaitForMap(1); !st.ok()) return st;

    std::ofstream(s->dir_ + "/admin-password") << kAdminPassword << "\n";
    s->http_port_ = FreePort();
    s->grpc_port_ = FreePort();
    if (absl::Status st = s->Launch(
            "coordinator", "coordinator", "coordinator", s->http_port_,
            {absl::StrCat("--http_port=", s->http_port_),
             absl::StrCat("--grpc_port=", s->grpc_port_), "--kvs=" + s->kvs_->spec(),
             "--run_dir=" + s->run_dir_, "--admin_password_file=" + s->dir_ + "/admin-password",
             "--web_root=" + SourcePath("web"), "--io_threads=1"},
            /*record=*/false);
        !st.ok()) {
      return st;
    }
    const std::string coordinator = absl::StrCat("--coordinator=127.0.0.1:", s->grpc_port_);
    for (int i = 0; i < 2; ++i) {
      int port = FreePort();
      s->frontend_ports_.push_back(port);
      if (absl::Status st =
              s->Launch(absl::StrCat("frontend-", port), "frontend", "frontend", port,
                        {absl::StrCat("--port=", port), "--kvs=" + s->kvs_->spec(), coordinator,
                         "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=8"});
          !st.ok()) {
        return st;
      }
    }
    s->smtp_port_ = FreePort();
    if (absl::Status st =
            s->Launch("smtp", "smtp", "smtp", s->smtp_port_,
                      {absl::StrCat("--port=", s->smtp_port_), "--kvs=" + s->kvs_->spec(),
                       "--state_dir=" + s->dir_, "--tls=false", "--relay=false", coordinator});
        !st.ok()) {
      return st;
    }
    s->pop3_port_ = FreePort();
    if (absl::Status st =
            s->Launch("pop3", "pop3", "pop3", s->pop3_port_,
                      {absl::StrCat("--port=", s->pop3_port_), "--kvs=" + s->kvs_->spec(),
                       "--state_dir=" + s->dir_, "--tls=false", coordinator});
        !st.ok()) {
      return st;
    }
    return s;
  }

  ~AdminSystem() {
    // Processes the coordinator started are not our children: kill them by their records.
    KillRecordedProcesses(run_dir_);
    processes_.clear();
    kvs_.reset();
    RemoveTestDir(dir_);
  }

  int http_port() const { return http_port_; }
  int frontend_port(int i) const { return frontend_ports_[i]; }
  int smtp_port() const { return smtp_port_; }
  int pop3_port() const { return pop3_port_; }
  KvsCluster& kvs() { return *kvs_; }
  const std::string& dir() const { return dir_; }

 private:
  AdminSystem() = default;

  absl::Status Launch(const std::string& name, const std::string& tier, const std::string& binary,
                      int port, std::vector<std::string> args, bool record = true) {
    const std::string log = dir_ + "/" + name + ".log";
    args = WithTestTls(BinaryPath(binary), std::move(args));  // into the launch record too
    auto p = Process::Start(BinaryPath(binary), args, log);
    if (!p.ok()) return p.status();
    if (record) {
      absl::Status s = WriteLaunchRecord(run_dir_, {.name = name,
                                                    .tier = tier,
                                                    .address = absl::StrCat("127.0.0.1:", port),
                                                    .binary = BinaryPath(binary),
                                                    .args = args,
                                                    .log = log,
                                                    .pid = p->pid()});
      if (!s.ok()) return s;
    }
    processes_.push_back(std::move(*p));
    if (!WaitForPort(port)) return absl::UnavailableError(name + " did not listen; see " + log);
    return absl::OkStatus();
  }

  std::string dir_;
  std::string run_dir_;
  std::unique_ptr<KvsCluster> kvs_;
  std::vector<Process> processes_;
  int http_port_ = 0;
  int grpc_port_ = 0;
  std::vector<int> frontend_ports_;
  int smtp_port_ = 0;
  int pop3_port_ = 0;
};

// A logged-in browser: the session cookie in the jar, the CSRF token sent on changes.
struct Browser {
  explicit Browser(int port) : http(port, 15000) {}

  HttpResponse Send(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!csrf.empty()) headers["X-CSRF-Token"] = csrf;
    auto r = http.Send(method, target, body, headers);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.status();
    return r.ok() ? *r : HttpResponse{};
  }
  json Json(const std::string& target) {
    HttpResponse r = Send("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  HttpClient http;
  std::string csrf;
};

// Logs in (the coordinator creates the admin account shortly after it starts: retried).
bool LogIn(Browser& b, const std::string& user, const std::string& pw, bool sign_up = false) {
  const std::string creds = json{{"username", user}, {"password", pw}}.dump();
  for (int i = 0; i < 100; ++i) {
    auto r = b.http.Send("POST", sign_up ? "/api/signup" : "/api/login", creds);
    if (r.ok() && (r->status == 200 || r->status == 201)) {
      b.csrf = json::parse(r->body)["csrf"];
      return true;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  return false;
}

// Base64 in a query string: '+', '/' and '=' percent-encoded.
std::string Escape(const std::string& base64) {
  std::string out;
  for (char c : base64) {
    switch (c) {
      case '+':
        out += "%2B";
        break;
      case '/':
        out += "%2F";
        break;
      case '=':
        out += "%3D";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string QueryKey(std::string_view bytes) {
  return Escape(absl::Base64Escape(absl::string_view(bytes.data(), bytes.size())));
}

json FindNode(const json& overview, const std::string& id) {
  for (const json& n : overview["nodes"]) {
    if (n["id"] == id) return n;
  }
  return nullptr;
}

json FindGroup(const json& overview, const std::string& id) {
  for (const json& g : overview["groups"]) {
    if (g["id"] == id) return g;
  }
  return nullptr;
}

// Polls the overview until `done(overview)` or the timeout; returns the last overview.
template <typename Pred>
json WaitForOverview(Browser& admin, Pred done, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  json overview;
  while (true) {
    overview = admin.Json("/api/admin/overview");
    if (done(overview) || steady_clock::now() >= deadline) return overview;
    std::this_thread::sleep_for(milliseconds(200));
  }
}

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = AdminSystem::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    system_ = std::move(*s);
    admin_ = std::make_unique<Browser>(system_->http_port());
    ASSERT_TRUE(LogIn(*admin_, "admin", kAdminPassword)) << "admin login; see " << system_->dir();
    user_ = std::make_unique<Browser>(system_->http_port());
    ASSERT_TRUE(LogIn(*user_, "alice", "alice-password", /*sign_up=*/true));
  }

  std::vector<std::string> ExpectedIds() const {
    std::vector<std::string> ids = {
        "coordinator", absl::StrCat("frontend-", system_->frontend_port(0)),
        absl::StrCat("frontend-", system_->frontend_port(1)),
        absl::StrCat("smtp-", system_->smtp_port()), absl::StrCat("pop3-", system_->pop3_port())};
    for (const char* g : {"config", "g1", "g2"}) {
      for (int r = 1; r <= 3; ++r) ids.push_back(absl::StrCat("kvs-", g, "-", r));
    }
    return ids;
  }

  // Every expected node up and every group with a leader.
  json WaitAllUp() {
    return WaitForOverview(
        *admin_,
        [&](const json& o) {
          for (const std::string& id : ExpectedIds()) {
            json n = FindNode(o, id);
            if (n.is_null() || n["health"] != "up") return false;
            // No election in progress either (a busy machine can delay heartbeats).
            if (n["tier"] == "kvs" && n["paxos_role"] != "leader" &&
                n["paxos_role"] != "follower") {
              return false;
            }
          }
          for (const char* g : {"config", "1", "2"}) {
            json group = FindGroup(o, g);
            if (group.is_null() || group["leader"].is_null()) return false;
          }
          return true;
        },
        seconds(45));  // a loaded CI machine has taken 20 s to settle its elections
  }

  std::unique_ptr<AdminSystem> system_;
  std::unique_ptr<Browser> admin_;
  std::unique_ptr<Browser> user_;
};

TEST_F(AdminApiTest, OnlyAdminsGetInAndTheOverviewListsEveryTier) {
  const std::vector<std::pair<std::string, std::string>> urls = {
      {"GET", "/admin"},
      {"GET", "/api/admin/overview"},
      {"GET", "/api/admin/nodes"},
      {"GET", "/api/admin/history?seconds=60"},
      {"GET", "/api/admin/data/1/rows"},
      {"GET", "/api/admin/data/1/columns?row=YQ%3D%3D"},
      {"GET", "/api/admin/data/1/cell?row=YQ%3D%3D&column=YQ%3D%3D"},
      {"POST", "/api/admin/nodes/kvs-g1-1/stop"},
      {"POST", "/api/admin/nodes/kvs-g1-1/start"},
      {"POST", "/api/admin/groups"},
      {"DELETE", "/api/admin/groups/2"},
      {"POST", "/api/admin/groups/1/replicas"},
      {"DELETE", "/api/admin/groups/1/replicas/kvs-g1-1"},
      {"GET", "/api/admin/no-such-thing"},
  };
  Browser anonymous(system_->http_port());
  for (const auto& [method, url] : urls) {
    HttpResponse r = anonymous.Send(method, url, method == "GET" ? "" : "{}");
    EXPECT_TRUE(r.status == 401 || r.status == 403) << method << " " << url << ": " << r.status;
    HttpResponse u = user_->Send(method, url, method == "GET" ? "" : "{}");
    EXPECT_EQ(u.status, 403) << method << " " << url << ": " << u.body;
    json body = json::parse(u.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body["error"].is_string()) << url << ": " << u.body;
  }
  // The admin without the CSRF header cannot change anything either.
  auto no_csrf = admin_->http.Send("POST", "/api/admin/nodes/kvs-g1-1/stop", "{}");
  ASSERT_TRUE(no_csrf.ok()) << no_csrf.status();
  EXPECT_EQ(no_csrf->status, 403) << no_csrf->body;

  HttpResponse page = admin_->Send("GET", "/admin");
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(page.Header("Content-Type").starts_with("text/html")) << page.Header("Content-Type");

  json overview = WaitAllUp();
  ASSERT_TRUE(overview.is_object());
  EXPECT_EQ(overview["map_version"], 1);
  EXPECT_GT(overview["now_ms"].get<int64_t>(), 0);
  for (const std::string& id : ExpectedIds()) {
    json n = FindNode(overview, id);
    ASSERT_FALSE(n.is_null()) << id << " missing from " << overview.dump();
    EXPECT_EQ(n["health"], "up") << n.dump();
    EXPECT_TRUE(n["version"].is_string()) << n.dump();
    EXPECT_TRUE(n["uptime_s"].is_number()) << n.dump();
    // The identity each node proves on internal gRPC, as its certificate says, and when
    // that certificate runs out (a year ahead for what the test CA issues).
    const json& cert = n["certificate"];
    ASSERT_TRUE(cert.is_object()) << n.dump();
    const std::string identity = cert["identity"];
    if (n["tier"] == "kvs") {
      EXPECT_EQ(identity, absl::StrCat("replica/",
                                       n["group"] == "config" ? "0" : n["group"].get<std::string>(),
                                       "/", n["replica"].get<uint64_t>()))
          << n.dump();
    } else if (n["tier"] == "coordinator") {
      EXPECT_EQ(identity, "coordinator/coordinator") << n.dump();
    } else {
      EXPECT_TRUE(identity.starts_with(absl::StrCat("service/", n["tier"].get<std::string>(), "/")))
          << n.dump();
    }
    EXPECT_GT(cert["days_left"].get<int64_t>(), 300) << n.dump();
    EXPECT_EQ(cert["expiring_soon"], false) << n.dump();
    if (n["tier"] == "kvs") {
      EXPECT_TRUE(n["applied_slot"].is_number()) << n.dump();
      EXPECT_TRUE(n["commit_slot"].is_number()) << n.dump();
      EXPECT_TRUE(n["log_slots"].is_number()) << n.dump();
      EXPECT_TRUE(n["log_bytes"].is_number()) << n.dump();
      EXPECT_TRUE(n["paxos_role"] == "leader" || n["paxos_role"] == "follower") << n.dump();
      EXPECT_TRUE(n["ballot"].is_string()) << n.dump();
      EXPECT_TRUE(n["replica"].is_number()) << n.dump();
    } else {
      EXPECT_TRUE(n["applied_slot"].is_null()) << n.dump();
      EXPECT_TRUE(n["group"].is_null()) << n.dump();
    }
    // Everything with a launch record can be stopped; the coordinator never.
    EXPECT_EQ(n["can_stop"], id != "coordinator") << n.dump();
    EXPECT_EQ(n["can_start"], false) << n.dump();
  }
  for (const char* g : {"config", "1", "2"}) {
    json group = FindGroup(overview, g);
    ASSERT_FALSE(group.is_null()) << g;
    EXPECT_EQ(group["members"].size(), 3u) << group.dump();
    json leader = FindNode(overview, group["leader"]);
    EXPECT_EQ(leader["paxos_role"], "leader") << leader.dump();
  }
  EXPECT_EQ(overview["rebalance"]["active"], false);

  // The charts' history fills about once a second.
  const std::string fe = absl::StrCat("frontend-", system_->frontend_port(0));
  json history;
  for (int i = 0; i < 50; ++i) {
    history = admin_->Json("/api/admin/history?seconds=60");
    if (history["frontends"].contains(fe) && history["frontends"][fe].size() >= 2 &&
        history["groups"].contains("1") && history["groups"]["1"].size() >= 2) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_TRUE(history["frontends"].contains(fe)) << history.dump();
  EXPECT_GE(history["frontends"][fe].size(), 2u);
  EXPECT_EQ(history["frontends"][fe][0].size(), 3u);
  ASSERT_TRUE(history["groups"].contains("1")) << history.dump();
  EXPECT_GE(history["groups"]["1"].size(), 2u);
}

TEST_F(AdminApiTest, BadIdsAndKeysGetClearErrors) {
  WaitAllUp();
  auto expect = [&](const std::string& method, const std::string& url, int status) {
    HttpResponse r = admin_->Send(method, url, method == "GET" ? "" : "{}");
    EXPECT_EQ(r.status, status) << method << " " << url << ": " << r.body;
    json body = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body["error"].is_string()) << url << ": " << r.body;
  };
  expect("POST", "/api/admin/nodes/kvs-g7-1/stop", 404);
  expect("POST", "/api/admin/nodes/nonsense/start", 404);
  expect("POST", "/api/admin/nodes/coordinator/stop", 422);
  expect("POST", "/api/admin/nodes/kvs-g1-1/start", 409);  // already running
  expect("GET", "/api/admin/history?seconds=601", 400);
  expect("GET", "/api/admin/history?seconds=x", 400);
  expect("GET", "/api/admin/data/abc/columns?row=YQ%3D%3D", 400);
  expect("GET", "/api/admin/data/01/columns?row=YQ%3D%3D", 400);
  expect("GET", "/api/admin/data/9/columns?row=YQ%3D%3D", 404);
  expect("GET", "/api/admin/data/1/columns?row=%21%21%21", 400);  // not base64
  expect("GET", "/api/admin/data/1/columns", 400);                // row missing
  expect("GET", "/api/admin/data/1/columns?row=YQ%3D%3D&limit=0", 400);
  expect("GET", "/api/admin/data/1/columns?row=YQ%3D%3D&limit=201", 400);
  expect("GET", "/api/admin/data/1/cell?row=YQ%3D%3D", 400);  // column missing
  expect("GET", "/api/admin/data/1/rows?limit=-3", 400);
  expect("DELETE", "/api/admin/groups/x", 400);
}

TEST_F(AdminApiTest, RawDataPagesVisitEachColumnOnceAndShowCells) {
  WaitAllUp();
  auto store = kvs::Connect(system_->kvs().spec());
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string row = "admin-test/row";
  // 130 columns (more than two pages of 50), some of them not text.
  std::set<std::string> columns;
  for (int i = 0; i < 130; ++i) {
    std::string column = absl::StrCat("col-", 1000 + i);
    if (i % 10 == 0) column += std::string("\xff\x00\x01", 3);
    ASSERT_TRUE((*store)->Put(row, column, absl::StrCat("value ", i)).ok());
    columns.insert(column);
  }
  const std::string big(100 << 10, 'x');
  ASSERT_TRUE((*store)->Put(row, "big", big).ok());
  columns.insert("big");
  const std::string binary("\x00\x01\xfe\xff", 4);
  ASSERT_TRUE((*store)->Put(row, "binary", binary).ok());
  columns.insert("binary");

  // The group that holds the row, from the map.
  std::vector<std::string> config;
  for (int i = 0; i < system_->kvs().config().size(); ++i) {
    config.push_back(system_->kvs().config().address(i));
  }
  kvs::ReplicaGroupClient config_client(config);
  auto map = kvs::shard::ConfigStore(config_client).Read();
  ASSERT_TRUE(map.ok()) << map.status();
  const std::string group = absl::StrCat(map->GroupOfRow(row));

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  while (pages < 20) {
    std::string url =
        absl::StrCat("/api/admin/data/", group, "/columns?row=", QueryKey(row), "&limit=50");
    if (!after.empty()) url += "&after=" + after;
    json page = admin_->Json(url);
    ++pages;
    ASSERT_TRUE(page["columns"].is_array()) << page.dump();
    EXPECT_LE(page["columns"].size(), 50u);
    for (const json& c : page["columns"]) {
      std::string bytes;
      ASSERT_TRUE(absl::Base64Unescape(c["key"].get<std::string>(), &bytes));
      seen.push_back(bytes);
      bool printable = bytes.find('\0') == std::string::npos && bytes.find('\xff') == bytes.npos;
      EXPECT_EQ(c["text"].is_null(), !printable) << c.dump();
      if (printable) {
        EXPECT_EQ(c["text"], bytes);
      }
      if (bytes == "big") {
        EXPECT_EQ(c["size"], big.size());
      }
    }
    if (page["next"].is_null()) break;
    after = Escape(page["next"].get<std::string>());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), columns.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), columns);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  // The other group does not serve the row: an error, not someone else's data.
  const std::string other = group == "1" ? "2" : "1";
  HttpResponse wrong =
      admin_->Send("GET", absl::StrCat("/api/admin/data/", other, "/columns?row=", QueryKey(row)));
  EXPECT_GE(wrong.status, 400) << wrong.body;

  json cell = admin_->Json(absl::StrCat("/api/admin/data/", group, "/cell?row=", QueryKey(row),
                                        "&column=", QueryKey("col-1001")));
  EXPECT_EQ(cell["size"], 7);
  EXPECT_EQ(cell["text"], "value 1");
  EXPECT_EQ(cell["hex"], "76616c75652031");
  EXPECT_EQ(cell["truncated"], false);
  cell = admin_->Json(absl::StrCat("/api/admin/data/", group, "/cell?row=", QueryKey(row),
                                   "&column=", QueryKey("binary")));
  EXPECT_EQ(cell["size"], 4);
  EXPECT_TRUE(cell["text"].is_null());
  EXPECT_EQ(cell["hex"], "0001feff");
  cell = admin_->Json(absl::StrCat("/api/admin/data/", group, "/cell?row=", QueryKey(row),
                                   "&column=", QueryKey("big")));
  EXPECT_EQ(cell["size"], big.size());
  EXPECT_EQ(cell["text"].get<std::string>().size(), 64u << 10);
  EXPECT_EQ(cell["hex"].get<std::string>().size(), 2 * 4096u);
  EXPECT_EQ(cell["truncated"], true);
  // Rows: 150 more rows spread over both groups; paging the group's rows 50 at a time
  // visits each row it holds exactly once and holds exactly the rows the map
  // gives it.
  std::set<std::string> mine = {row};
  for (int i = 0; i < 150; ++i) {
    std::string r = absl::StrCat("admin-rows/", i);
    ASSERT_TRUE((*store)->Put(r, "c", "v").ok());
    if (absl::StrCat(map->GroupOfRow(r)) == group) mine.insert(r);
  }
  ASSERT_GT(mine.size(), 50u);
  std::vector<std::string> rows;
  after.clear();
  int row_pages = 0;
  while (row_pages < 100) {
    ++row_pages;
    std::string url = absl::StrCat("/api/admin/data/", group, "/rows?limit=50");
    if (!after.empty()) url += "&after=" + after;
    json page = admin_->Json(url);
    ASSERT_TRUE(page["rows"].is_array()) << page.dump();
    EXPECT_LE(page["rows"].size(), 50u);
    for (const json& r : page["rows"]) {
      std::string bytes;
      ASSERT_TRUE(absl::Base64Unescape(r["key"].get<std::string>(), &bytes));
      rows.push_back(bytes);
    }
    if (page["next"].is_null()) break;
    after = Escape(page["next"].get<std::string>());
  }
  EXPECT_GE(row_pages, 2);
  // Store order is the order of the store's cell keys (kvs/storage/cell_key.h), not
  // necessarily byte order of the row; each row comes once.
  EXPECT_EQ(std::set<std::string>(rows.begin(), rows.end()).size(), rows.size());
  std::set<std::string> test_rows;
  for (const std::string& r : rows) {
    if (r.starts_with("admin-rows/") || r == row) test_rows.insert(r);
  }
  EXPECT_EQ(test_rows, mine);

  HttpResponse absent =
      admin_->Send("GET", absl::StrCat("/api/admin/data/", group, "/cell?row=", QueryKey(row),
                                       "&column=", QueryKey("nope")));
  EXPECT_EQ(absent.status, 404) << absent.body;
}

TEST_F(AdminApiTest, StoppedLeaderIsReplacedAndCatchesUpAfterStart) {
  json overview = WaitAllUp();
  ASSERT_TRUE(FindGroup(overview, "1")["leader"].is_string()) << overview.dump();
  const std::string leader = FindGroup(overview, "1")["leader"];

  // A user keeps using webmail the whole time: every request must succeed.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::thread user([&] {
    const auto deadline = steady_clock::now() + seconds(60);
    for (int i = 0; i < 2000 && !stop && steady_clock::now() < deadline; ++i) {
      json mail = {{"to", {"alice@penncloud.local"}},
                   {"subject", absl::StrCat("note ", i)},
                   {"body", "still here"}};
      HttpResponse sent = user_->Send("POST", "/api/mail", mail.dump());
      HttpResponse inbox = user_->Send("GET", "/api/mail?folder=inbox");
      (sent.status / 100 == 2 && inbox.status == 200 ? ok : failed)++;
      std::this_thread::sleep_for(milliseconds(20));
    }
  });

  HttpResponse r = admin_->Send("POST", "/api/admin/nodes/" + leader + "/stop", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["health"], "stopped");
  EXPECT_EQ(admin_->Send("POST", "/api/admin/nodes/" + leader + "/stop", "{}").status, 409);

  overview = WaitForOverview(
      *admin_,
      [&](const json& o) {
        json g = FindGroup(o, "1");
        return FindNode(o, leader)["health"] == "stopped" && !g["leader"].is_null() &&
               g["leader"] != leader;
      },
      seconds(15));
  json stopped = FindNode(overview, leader);
  EXPECT_EQ(stopped["health"], "stopped") << stopped.dump();
  EXPECT_EQ(stopped["can_start"], true);
  EXPECT_EQ(stopped["can_stop"], false);
  const json new_leader_id = FindGroup(overview, "1")["leader"];
  ASSERT_FALSE(new_leader_id.is_null()) << overview.dump();
  EXPECT_NE(new_leader_id, leader);

  // Let the user write while the old leader is gone, so it has slots to catch up on.
  const int before_start = ok.load();
  for (auto deadline = std::chrono::steady_clock::now() + seconds(15);
       ok.load() < before_start + 20 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_GE(ok.load(), before_start + 20) << "the user wrote nothing while the leader was down";
  r = admin_->Send("POST", "/api/admin/nodes/" + leader + "/start", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(admin_->Send("POST", "/api/admin/nodes/" + leader + "/start", "{}").status, 409);

  stop = true;
  user.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(failed.load(), 0) << ok.load() << " user requests succeeded";

  // Back up, and its applied slot reaches where the group's leader was after the writes.
  overview = admin_->Json("/api/admin/overview");
  const uint64_t target =
      FindNode(overview, FindGroup(overview, "1")["leader"])["applied_slot"].get<uint64_t>();
  overview = WaitForOverview(
      *admin_,
      [&](const json& o) {
        json n = FindNode(o, leader);
        return n["health"] == "up" && n["applied_slot"].is_number() &&
               n["applied_slot"].get<uint64_t>() >= target;
      },
      seconds(20));
  json back = FindNode(overview, leader);
  EXPECT_EQ(back["health"], "up") << back.dump();
  EXPECT_GE(back["applied_slot"].get<uint64_t>(), target) << back.dump();
  EXPECT_EQ(back["can_stop"], true);

  // A frontend stops and starts the same way; the proxy keeps serving through the other.
  const std::string fe = absl::StrCat("frontend-", system_->frontend_port(0));
  ASSERT_EQ(admin_->Send("POST", "/api/admin/nodes/" + fe + "/stop", "{}").status, 200);
  EXPECT_EQ(user_->Send("GET", "/api/me").status, 200);
  ASSERT_EQ(admin_->Send("POST", "/api/admin/nodes/" + fe + "/start", "{}").status, 200);
  overview = WaitForOverview(
      *admin_, [&](const json& o) { return FindNode(o, fe)["health"] == "up"; }, seconds(15));
  EXPECT_EQ(FindNode(overview, fe)["health"], "up");
}

TEST_F(AdminApiTest, ReplicaAddedAndRemovedThroughConsensus) {
  WaitAllUp();
  auto store = kvs::Connect(system_->kvs().spec());
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE((*store)->Put(absl::StrCat("member-test/", i), "c", "before").ok());
  }

  HttpResponse r = admin_->Send("POST", "/api/admin/groups/2/replicas", "{}");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = json::parse(r.body)["id"];
  EXPECT_EQ(id, "kvs-g2-4");
  // One change at a time.
  EXPECT_EQ(admin_->Send("POST", "/api/admin/groups/2/replicas", "{}").status, 409);

  // It joins as a learner, catches up and becomes a voting member of group 2.
  json overview = WaitForOverview(
      *admin_,
      [&](const json& o) {
        json n = FindNode(o, id);
        return !n.is_null() && n["health"] == "up" && n["paxos_role"] == "follower" &&
               FindGroup(o, "2")["members"].size() == 4;
      },
      seconds(60));
  json added = FindNode(overview, id);
  ASSERT_FALSE(added.is_null()) << overview.dump();
  EXPECT_EQ(added["health"], "up") << added.dump();
  EXPECT_EQ(added["paxos_role"], "follower") << added.dump();
  EXPECT_EQ(added["can_stop"], true) << added.dump();
  EXPECT_EQ(FindGroup(overview, "2")["members"].size(), 4u) << overview.dump();

  // Removal waits for the add to finish completely, then takes it out and stops it.
  const auto deadline = steady_clock::now() + seconds(30);
  do {
    r = admin_->Send("DELETE", "/api/admin/groups/2/replicas/" + id, "");
    if (r.status != 409) break;
    std::this_thread::sleep_for(milliseconds(300));
  } while (steady_clock::now() < deadline);
  ASSERT_EQ(r.status, 202) << r.body;
  overview = WaitForOverview(
      *admin_,
      [&](const json& o) {
        json n = FindNode(o, id);
        return FindGroup(o, "2")["members"].size() == 3 && (n.is_null() || n["health"] != "up");
      },
      seconds(30));
  EXPECT_EQ(FindGroup(overview, "2")["members"].size(), 3u) << overview.dump();
  for (int i = 0; i < 40; ++i) {
    auto v = (*store)->Get(absl::StrCat("member-test/", i), "c");
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, "before");
  }
  EXPECT_EQ(admin_->Send("DELETE", "/api/admin/groups/2/replicas/kvs-g2-9", "").status, 404);
  EXPECT_EQ(admin_->Send("DELETE", "/api/admin/groups/2/replicas/kvs-g1-1", "").status, 400);
  EXPECT_EQ(admin_->Send("DELETE", "/api/admin/groups/7", "").status, 404);
}

}  // namespace
}  // namespace penncloud::testing
