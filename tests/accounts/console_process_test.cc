// The console's user tools and the live parts of webmail, through real processes: a KVS
// replica group, smtp, one frontend and the coordinator (:8000 and HTTPS), driven by curl
// and Python's smtplib as a browser and a mail server would.
// - Password-reset links: only an admin makes them; one works once, ends the user's
//   sessions and event streams; expired and wrong links are refused.
// - Drive quota: set in the console, honoured by the next upload through :8000.
// - Mail search through :8000 after SMTP delivery, with operators, and 400s.
// - Server-Sent Events over TLS: a delivery arrives as an event; a stream ends on logout
//   and when the password changes elsewhere; a client that leaves frees its place.
// - Every user-management endpoint of the console refuses a non-admin with 403.
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "accounts/tokens.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr char kAdminPassword[] = "console-admin-pw";

struct Answer {
  int status = 0;
  json body;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Polls `done` every 50 ms until it holds or `timeout` passes.
template <typename Pred>
bool WaitUntil(Pred done, milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

class ConsoleProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto system = MailSystem::Start();
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = system->release();
    const std::string& dir = sys_->dir();
    int status = 0;
    std::string tls = SourcePath("scripts/lib/tls.sh");
    ShResult made = Sh(absl::StrCat("bash ", tls, " ca ", dir, " && bash ", tls, " issue ", dir,
                                    " https web/https 127.0.0.1 2>&1"));
    status = made.exit_code;
    ASSERT_EQ(status, 0) << made.output;
    std::ofstream(dir + "/admin-password") << kAdminPassword << "\n";
    http_port_ = FreePort();
    https_port_ = FreePort();
    const int grpc_port = FreePort();
    auto coordinator = Process::Start(
        BinaryPath("coordinator"),
        {absl::StrCat("--http_port=", http_port_), absl::StrCat("--grpc_port=", grpc_port),
         absl::StrCat("--https_port=", https_port_), "--tls_cert=" + dir + "/https.crt",
         "--tls_key=" + dir + "/https.key", "--kvs=" + sys_->kvs_spec(),
         "--admin_password_file=" + dir + "/admin-password", "--heartbeat_ms=500",
         "--down_after_ms=3000", "--metrics_listen=127.0.0.1:" + std::to_string(FreePort())},
        dir + "/coordinator.log");
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = new Process(std::move(*coordinator));
    auto frontend =
        Process::Start(BinaryPath("frontend"),
                       {absl::StrCat("--port=", FreePort()), "--kvs=" + sys_->kvs_spec(),
                        absl::StrCat("--coordinator=127.0.0.1:", grpc_port),
                        "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=8"},
                       dir + "/frontend.log");
    ASSERT_TRUE(frontend.ok()) << frontend.status();
    frontend_ = new Process(std::move(*frontend));
    ASSERT_TRUE(WaitForPort(https_port_)) << "see " << dir;
    // Ready once :8000 reaches the frontend and it reaches the store (401, not 503).
    ASSERT_TRUE(WaitUntil(
        [] {
          return Raw("POST", "/api/login", R"({"username":"probe","password":"probe-probe"})")
                     .status == 401;
        },
        seconds(30)))
        << "see " << dir;
  }

  static void TearDownTestSuite() {
    delete frontend_;
    delete coordinator_;
    delete sys_;
  }

  // One request without cookies through :8000.
  static Answer Raw(const std::string& method, const std::string& path, const std::string& body) {
    return Curl(absl::StrCat("-X ", method, " -H 'Content-Type: application/json' --data-binary '",
                             body, "' http://127.0.0.1:", http_port_, path));
  }

  // Runs curl with `args`, returning the status and the body as JSON.
  static Answer Curl(const std::string& args) {
    static int n = 0;
    const std::string out = absl::StrCat(sys_->dir(), "/body", ++n);
    ShResult r = Sh(absl::StrCat("curl -s --max-time 20 -o ", out, " -w '%{http_code}' ", args));
    Answer a;
    EXPECT_TRUE(absl::SimpleAtoi(r.output, &a.status)) << args << ": " << r.output;
    a.body = json::parse(ReadFile(out), nullptr, /*allow_exceptions=*/false);
    return a;
  }

  std::string Jar(const std::string& browser) { return sys_->dir() + "/" + browser + ".jar"; }

  // A JSON API call as `browser` (its own cookie jar and CSRF token), over :8000 or HTTPS.
  Answer Api(const std::string& browser, const std::string& method, const std::string& path,
             const json& body = nullptr, bool https = false) {
    std::string args = absl::StrCat("-X ", method, " -b ", Jar(browser), " -c ", Jar(browser));
    if (!csrf_[browser].empty()) absl::StrAppend(&args, " -H 'X-CSRF-Token: ", csrf_[browser], "'");
    if (!body.is_null()) {
      const std::string file = absl::StrCat(sys_->dir(), "/request-", browser);
      std::ofstream(file) << body.dump();
      absl::StrAppend(&args, " -H 'Content-Type: application/json' --data-binary @", file);
    }
    absl::StrAppend(&args, " ", Url(path, https));
    return Curl(args);
  }

  std::string Url(const std::string& path, bool https) {
    return https ? absl::StrCat("--cacert ", sys_->dir(), "/ca.crt https://127.0.0.1:", https_port_,
                                path)
                 : absl::StrCat("http://127.0.0.1:", http_port_, path);
  }

  void LogIn(const std::string& browser, const std::string& user, const std::string& password,
             bool https = false) {
    Answer a =
        Api(browser, "POST", "/api/login", {{"username", user}, {"password", password}}, https);
    ASSERT_EQ(a.status, 200) << user << ": " << a.body;
    csrf_[browser] = a.body["csrf"];
  }

  void SignUp(const std::string& user, const std::string& password) {
    Answer a = Api(user, "POST", "/api/signup", {{"username", user}, {"password", password}});
    ASSERT_EQ(a.status, 201) << user << ": " << a.body;
    csrf_[user] = a.body["csrf"];
  }

  // An event stream of `browser`'s session over HTTPS, kept open by a curl process whose
  // output (the stream) lands in `*log`.
  Process OpenStream(const std::string& browser, std::string* log) {
    static int n = 0;
    *log = absl::StrCat(sys_->dir(), "/stream-", browser, ++n, ".log");
    auto p = Process::Start("/usr/bin/curl",
                            {"-sS", "-N", "--max-time", "60", "--cacert", sys_->dir() + "/ca.crt",
                             "-b", Jar(browser), "-H", "Accept: text/event-stream",
                             absl::StrCat("https://127.0.0.1:", https_port_, "/api/events")},
                            *log);
    EXPECT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(WaitUntil([&] { return ReadFile(*log).find("event: ready") != std::string::npos; },
                          seconds(10)))
        << ReadFile(*log);
    return p.ok() ? std::move(*p) : Process();
  }

  // Whether `stream` ends by itself within `timeout` (the server closed it).
  static bool Ends(Process& stream, milliseconds timeout) { return stream.Wait(timeout) != -1; }

  static void Deliver(const std::string& to, const std::string& subject,
                      const std::string& from = "carol@example.com") {
    ShResult r =
        Sh(absl::StrCat("/usr/bin/python3 ", MailSystem::Script("smtp_once.py"), " ",
                        sys_->smtp_port(), " ", from, " ", to, "@penncloud.local '", subject, "'"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  static MailSystem* sys_;
  static Process* coordinator_;
  static Process* frontend_;
  static int http_port_;
  static int https_port_;
  std::map<std::string, std::string> csrf_;
};

MailSystem* ConsoleProcessTest::sys_ = nullptr;
Process* ConsoleProcessTest::coordinator_ = nullptr;
Process* ConsoleProcessTest::frontend_ = nullptr;
int ConsoleProcessTest::http_port_ = 0;
int ConsoleProcessTest::https_port_ = 0;

TEST_F(ConsoleProcessTest, ANonAdminGetsForbiddenFromEveryUserTool) {
  LogIn("bob", "bob", MailSystem::kBobPassword);
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"GET", "/api/admin/users"},
      {"POST", "/api/admin/users/alice/disabled"},
      {"POST", "/api/admin/users/bob/admin"},
      {"POST", "/api/admin/users/alice/reset"},
      {"GET", "/api/admin/users/alice/drive"},
      {"PUT", "/api/admin/users/alice/drive"},
      {"GET", "/api/admin/signup"},
      {"PUT", "/api/admin/signup"},
      {"POST", "/api/admin/invites"},
      {"DELETE", "/api/admin/invites/" + std::string(64, '0')},
  };
  for (const auto& [method, path] : calls) {
    json body = method == "GET" || method == "DELETE"
                    ? json(nullptr)
                    : json{{"disabled", true}, {"admin", true}, {"quota", 1}, {"policy", "closed"}};
    Answer a = Api("bob", method, path, body);
    EXPECT_EQ(a.status, 403) << method << " " << path;
    EXPECT_TRUE(a.body.contains("error")) << method << " " << path;
  }
  // Nothing changed.
  LogIn("admin", "admin", kAdminPassword);
  Answer alice = Api("admin", "GET", "/api/admin/users?q=alice");
  ASSERT_EQ(alice.status, 200) << alice.body;
  EXPECT_EQ(alice.body["users"][0]["disabled"], false);
  EXPECT_EQ(Api("admin", "GET", "/api/admin/signup").body["policy"], "open");
}

TEST_F(ConsoleProcessTest, AResetLinkWorksOnceAndEndsEverySessionAndStream) {
  SignUp("rita", "rita-old-password");
  std::string log;
  Process stream = OpenStream("rita", &log);
  LogIn("admin", "admin", kAdminPassword);
  Answer made = Api("admin", "POST", "/api/admin/users/rita/reset", json::object());
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string token = made.body["token"];
  EXPECT_GE(token.size(), 43u);  // 256 random bits
  EXPECT_EQ(made.body["url"], "/reset?token=" + token);

  // The page is served with the pages' strict policy.
  ShResult page = Sh(absl::StrCat("curl -s -D - -o /dev/null http://127.0.0.1:", http_port_,
                                  "/reset?token=", token));
  EXPECT_NE(page.output.find("200"), std::string::npos) << page.output;
  EXPECT_NE(page.output.find("script-src 'self'"), std::string::npos) << page.output;

  EXPECT_EQ(
      Raw("POST", "/api/password/reset",
          absl::StrCat(R"({"token":")", accounts::NewToken(), R"(","password":"x-new-pw-1"})"))
          .status,
      404);
  Answer check = Raw("POST", "/api/password/reset/check", R"({"token":")" + token + R"("})");
  ASSERT_EQ(check.status, 200) << check.body;
  EXPECT_EQ(check.body["username"], "rita");
  const std::string use = R"({"token":")" + token + R"(","password":"rita-new-password"})";
  Answer done = Raw("POST", "/api/password/reset", use);
  ASSERT_EQ(done.status, 200) << done.body;

  EXPECT_TRUE(Ends(stream, seconds(5))) << "her event stream outlived the reset";
  EXPECT_EQ(Api("rita", "GET", "/api/me").status, 401) << "her session outlived the reset";
  EXPECT_EQ(Raw("POST", "/api/password/reset", use).status, 404) << "used twice";
  EXPECT_EQ(
      Raw("POST", "/api/login", R"({"username":"rita","password":"rita-old-password"})").status,
      401);
  EXPECT_EQ(
      Raw("POST", "/api/login", R"({"username":"rita","password":"rita-new-password"})").status,
      200);
}

TEST_F(ConsoleProcessTest, AnExpiredResetLinkIsRefused) {
  SignUp("rex", "rex-old-password");
  LogIn("admin", "admin", kAdminPassword);
  Answer made = Api("admin", "POST", "/api/admin/users/rex/reset", json{{"hours", 1}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string token = made.body["token"];
  // An hour is long to wait: the link's expiry is moved into the past in the store.
  const std::string row = "pwreset/" + accounts::Sha256Hex(token);
  ASSERT_TRUE(sys_->kvs().Get(row, "data").ok());
  ASSERT_TRUE(sys_->kvs().Put(row, "data", "rex\n1000").ok());
  EXPECT_EQ(Raw("POST", "/api/password/reset",
                R"({"token":")" + token + R"(","password":"rex-new-password"})")
                .status,
            404);
  EXPECT_EQ(Raw("POST", "/api/login", R"({"username":"rex","password":"rex-old-password"})").status,
            200);
}

TEST_F(ConsoleProcessTest, ALoweredQuotaRefusesTheNextUploadThroughTheCoordinator) {
  SignUp("quinn", "quinn-password");
  LogIn("admin", "admin", kAdminPassword);
  const std::string file = sys_->dir() + "/upload.bin";
  std::ofstream(file) << std::string(200 * 1024, 'q');
  auto upload = [&](const std::string& name) {
    return Curl(absl::StrCat("-X PUT -b ", Jar("quinn"), " -H 'X-CSRF-Token: ", csrf_["quinn"],
                             "' --data-binary @", file, " 'http://127.0.0.1:", http_port_,
                             "/api/files/content?path=/", name, "'"));
  };
  ASSERT_EQ(upload("first.bin").status, 201);
  Answer usage = Api("admin", "GET", "/api/admin/users/quinn/drive");
  ASSERT_EQ(usage.status, 200) << usage.body;
  EXPECT_EQ(usage.body["used"], 200 * 1024);
  EXPECT_EQ(Api("admin", "PUT", "/api/admin/users/quinn/drive", json{{"quota", -5}}).status, 400);
  Answer set = Api("admin", "PUT", "/api/admin/users/quinn/drive", json{{"quota", 300 * 1024}});
  ASSERT_EQ(set.status, 200) << set.body;
  // The drive says 507 (Insufficient Storage) for a full quota, as WebDAV does.
  Answer refused = upload("second.bin");
  EXPECT_EQ(refused.status, 507) << refused.body;
  EXPECT_TRUE(refused.body.contains("error"));
  Answer listed = Api("admin", "GET", "/api/admin/users?q=quinn");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body["users"][0]["drive"]["used"], 200 * 1024) << "the refused upload counts";
  EXPECT_EQ(listed.body["users"][0]["drive"]["quota"], 300 * 1024);
}

TEST_F(ConsoleProcessTest, MailSearchThroughTheCoordinatorAfterSmtpDelivery) {
  SignUp("sam", "sam-password");
  Deliver("sam", "Quarterly budget review", "carol@example.com");
  Deliver("sam", "Lunch on Friday", "dave@example.org");
  auto search = [&](const std::string& q) { return Api("sam", "GET", "/api/mail/search?q=" + q); };
  Answer hits;
  ASSERT_TRUE(WaitUntil(
      [&] {
        hits = search("budget");
        return hits.status == 200 && hits.body["messages"].size() == 1;
      },
      seconds(10)))
      << hits.status << " " << hits.body;
  EXPECT_EQ(hits.body["messages"][0]["subject"], "Quarterly budget review");
  EXPECT_EQ(hits.body["messages"][0]["folder"], "inbox");
  hits = search("from%3Adave%40example.org");
  ASSERT_EQ(hits.status, 200) << hits.body;
  ASSERT_EQ(hits.body["messages"].size(), 1u) << hits.body;
  EXPECT_EQ(hits.body["messages"][0]["subject"], "Lunch on Friday");
  hits = search("in%3Ainbox%20is%3Aunread%20subject%3Afriday");
  ASSERT_EQ(hits.body["messages"].size(), 1u) << hits.body;
  EXPECT_EQ(search("in%3Asent%20budget").body["messages"].size(), 0u);
  for (const char* bad : {"colour%3Ablue", "before%3A2026-13-40", "%22unbalanced"}) {
    Answer a = search(bad);
    EXPECT_EQ(a.status, 400) << bad << ": " << a.body;
    EXPECT_TRUE(a.body.contains("error")) << bad;
  }
}

TEST_F(ConsoleProcessTest, EventStreamsOverTlsCarryDeliveriesAndEndWithTheSession) {
  SignUp("eva", "eva-password");
  LogIn("eva-phone", "eva", "eva-password", /*https=*/true);
  std::string log;
  Process stream = OpenStream("eva", &log);
  Deliver("eva", "Arrives live");
  EXPECT_TRUE(WaitUntil([&] { return ReadFile(log).find("event: mail") != std::string::npos; },
                        seconds(10)))
      << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("inbox"), std::string::npos) << ReadFile(log);

  // Logging out ends that session's stream.
  ASSERT_EQ(Api("eva", "POST", "/api/logout", json::object()).status, 200);
  EXPECT_TRUE(Ends(stream, seconds(5))) << "the stream outlived its logout";

  // A password change ends the streams of every other session.
  std::string phone_log;
  Process phone = OpenStream("eva-phone", &phone_log);
  LogIn("eva", "eva", "eva-password");
  Answer changed =
      Api("eva", "POST", "/api/password", {{"old", "eva-password"}, {"new", "eva-password-2"}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_TRUE(Ends(phone, seconds(5))) << "the other session's stream outlived the change";
}

TEST_F(ConsoleProcessTest, AClientThatLeavesFreesItsStreamOnTheFrontend) {
  SignUp("lena", "lena-password");
  std::vector<Process> streams;
  std::vector<std::string> logs(8);
  for (int i = 0; i < 8; ++i) streams.push_back(OpenStream("lena", &logs[i]));
  // The ninth is over the per-user bound.
  Answer over = Curl(absl::StrCat("-b ", Jar("lena"), " --max-time 5 ", Url("/api/events", true)));
  ASSERT_EQ(over.status, 429);
  // The browsers leave without a word (their TLS connections just close).
  for (Process& p : streams) {
    p.Kill();
    p.Wait();
  }
  // Each place frees once the frontend's next keep-alive (2 s) fails to write; before the
  // coordinator watched its TLS clients, the streams stayed until the 10 minute cap.
  const auto left = steady_clock::now();
  int status = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        // A live stream answers 200 and is then cut by --max-time.
        ShResult r = Sh(absl::StrCat("curl -s -o /dev/null -w '%{http_code}' --max-time 1 -b ",
                                     Jar("lena"), " ", Url("/api/events", true)));
        status = std::atoi(r.output.c_str());
        return status == 200;
      },
      seconds(12)))
      << status;
  EXPECT_LT(steady_clock::now() - left, seconds(10));
  // And all eight places come back, not just one (each probe above holds a place too until
  // its own keep-alive fails, so a refused try is retried).
  auto deadline = steady_clock::now() + seconds(20);
  for (int i = 0; i < 8; ++i) {
    bool open = false;
    while (!open && steady_clock::now() < deadline) {
      auto p = Process::Start(
          "/usr/bin/curl",
          {"-sS", "-N", "--max-time", "60", "--cacert", sys_->dir() + "/ca.crt", "-b", Jar("lena"),
           absl::StrCat("https://127.0.0.1:", https_port_, "/api/events")},
          logs[i]);
      ASSERT_TRUE(p.ok()) << p.status();
      streams[i] = std::move(*p);
      WaitUntil(
          [&] {
            std::string text = ReadFile(logs[i]);
            return text.find("event: ready") != std::string::npos ||
                   text.find("too many") != std::string::npos;
          },
          seconds(5));
      open = ReadFile(logs[i]).find("event: ready") != std::string::npos;
      if (!open) streams[i].Wait(seconds(5));
    }
    EXPECT_TRUE(open) << "stream " << i << ": " << ReadFile(logs[i]);
  }
}

}  // namespace
}  // namespace penncloud::testing
