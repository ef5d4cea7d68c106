// Two coordinators in front of one fleet (docs/coordinator.md, "Several coordinators"):
// three frontends and an SMTP server beat to both; users log in and read their mail
// through both while one coordinator is SIGKILLed and restarted. The survivor must not
// fail a single request, the frontends keep beating to the dead one, and the restarted
// one rebuilds its node table from heartbeats alone, within a few seconds.
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/coordinator.grpc.pb.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"
#include "tests/web/http_client.h"

namespace penncloud::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kAdminPassword[] = "multi-coordinator-admin";
constexpr int kFrontends = 3;

struct Coordinator {
  int http_port = FreePort();
  int grpc_port = FreePort();
  std::string grpc_address() const { return absl::StrCat("127.0.0.1:", grpc_port); }
  Process process;
};

// How many frontends and SMTP servers a coordinator reports healthy (gRPC ListNodes).
std::pair<int, int> HealthyNodes(const Coordinator& c) {
  auto stub = coordinator::pb::Coordinator::NewStub(
      grpc::CreateChannel(c.grpc_address(), tls::ChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 1s);
  coordinator::pb::ListNodesResponse res;
  if (!stub->ListNodes(&ctx, {}, &res).ok()) return {-1, -1};
  int frontends = 0, smtp = 0;
  for (const auto& n : res.nodes()) {
    if (!n.healthy()) continue;
    if (n.kind() == "frontend") ++frontends;
    if (n.kind() == "smtp") ++smtp;
  }
  return {frontends, smtp};
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// A user's browser pointed at one coordinator.
struct Browser {
  explicit Browser(int port) : http(port, 5000) {}
  bool LogIn(const std::string& user, const std::string& pw) {
    auto r = http.Send("POST", "/api/login", json{{"username", user}, {"password", pw}}.dump());
    if (!r.ok() || r->status != 200) return false;
    csrf = json::parse(r->body)["csrf"];
    return true;
  }
  int Get(const std::string& target) {
    auto r = http.Send("GET", target, "", {{"X-CSRF-Token", csrf}});
    return r.ok() ? r->status : 0;
  }
  std::string Body(const std::string& target) {
    auto r = http.Send("GET", target, "", {{"X-CSRF-Token", csrf}});
    return r.ok() ? r->body : "";
  }
  HttpClient http;
  std::string csrf;
};

// The sum of `family`'s samples whose labels contain every one of `labels`.
double Metric(int port, const std::string& family, const std::vector<std::string>& labels) {
  HttpClient client(port, 2000);
  auto r = client.Send("GET", "/metrics");
  if (!r.ok()) return -1;
  double sum = 0;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(family + "{")) continue;
    bool all = true;
    for (const std::string& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

class MultiCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("penncloud-multicoord");
    auto kvs = KvsGroup::Start();
    ASSERT_TRUE(kvs.ok()) << kvs.status();
    kvs_ = std::move(*kvs);
    std::ofstream(dir_ + "/admin-password") << kAdminPassword << "\n";
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(StartCoordinator(i).ok());
    const std::string both =
        coordinators_[0].grpc_address() + "," + coordinators_[1].grpc_address();
    for (int i = 0; i < kFrontends; ++i) {
      int port = FreePort(), metrics = FreePort();
      auto p = Process::Start(
          BinaryPath("frontend"),
          {absl::StrCat("--port=", port), "--kvs=" + kvs_->spec(), "--coordinator=" + both,
           "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=16",
           absl::StrCat("--metrics_listen=127.0.0.1:", metrics)},
          absl::StrCat(dir_, "/frontend", i, ".log"));
      ASSERT_TRUE(p.ok()) << p.status();
      frontends_.push_back(std::move(*p));
      frontend_metrics_.push_back(metrics);
    }
    int smtp_port = FreePort();
    smtp_port_ = smtp_port;
    auto smtp = Process::Start(
        BinaryPath("smtp"),
        {absl::StrCat("--port=", smtp_port), absl::StrCat("--smtps_port=", FreePort()),
         "--kvs=" + kvs_->spec(), "--state_dir=" + dir_, "--coordinator=" + both},
        dir_ + "/smtp.log");
    ASSERT_TRUE(smtp.ok()) << smtp.status();
    smtp_ = std::move(*smtp);
    for (const Coordinator& c : coordinators_) {
      ASSERT_TRUE(WaitFor(
          [&] {
            return HealthyNodes(c) == std::pair{kFrontends, 1};
          },
          30s))
          << "nodes never registered at :" << c.http_port << "; see " << dir_;
    }
  }

  void TearDown() override {
    for (Process& f : frontends_) f.Kill();
    smtp_.Kill();
    for (Coordinator& c : coordinators_) c.process.Kill();
    if (!HasFailure()) RemoveTestDir(dir_);
  }

  absl::Status StartCoordinator(int i) {
    Coordinator& c = coordinators_[i];
    auto p = Process::Start(
        BinaryPath("coordinator"),
        {absl::StrCat("--http_port=", c.http_port), absl::StrCat("--grpc_port=", c.grpc_port),
         "--kvs=" + kvs_->spec(), "--heartbeat_ms=250", "--down_after_ms=2000", "--io_threads=1",
         "--admin_password_file=" + dir_ + "/admin-password",
         absl::StrCat("--node_name=coordinator-", i)},
        absl::StrCat(dir_, "/coordinator", i, ".log"));
    if (!p.ok()) return p.status();
    c.process = std::move(*p);
    if (!WaitForPort(c.http_port) || !WaitForPort(c.grpc_port)) {
      return absl::UnavailableError("coordinator did not start; see " + dir_);
    }
    return absl::OkStatus();
  }

  std::string dir_;
  std::unique_ptr<KvsGroup> kvs_;
  Coordinator coordinators_[2];
  std::vector<Process> frontends_;
  std::vector<int> frontend_metrics_;
  Process smtp_;
  int smtp_port_ = 0;
};

TEST_F(MultiCoordinatorTest, SurvivorServesAndRestartedOneRelearnsTheFleet) {
  Coordinator& a = coordinators_[0];
  Coordinator& b = coordinators_[1];
  // One user per coordinator, made through the other one: the account is in the KVS.
  const std::string pw = "multi coordinator pw 1!";
  for (auto [user, port] : {std::pair{"ann", b.http_port}, {"bob", a.http_port}}) {
    HttpClient c(port);
    auto r = c.Send("POST", "/api/signup", json{{"username", user}, {"password", pw}}.dump());
    ASSERT_TRUE(r.ok() && (r->status == 200 || r->status == 201)) << user;
  }
  // A mail for each through SMTP, which beats to both coordinators too.
  for (const char* user : {"ann", "bob"}) {
    std::string cmd = absl::StrCat("/usr/bin/python3 ", SourcePath("tests/mail/smtp_once.py"), " ",
                                   smtp_port_, " sender@example.org ", user,
                                   "@penncloud.local multi-coordinator-hello >/dev/null 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "smtp to " << user;
  }

  // A bounded load through each coordinator: log in, then read the profile and the inbox;
  // a fresh login every 10th step.
  struct Tally {
    std::atomic<int> ok{0}, failed{0}, ok_after_restart{0};
  };
  Tally on_a, on_b;
  std::atomic<bool> stop{false}, a_down{false}, a_restarted{false};
  auto load = [&](int port, const char* user, Tally& t, bool is_a) {
    Browser browser(port);
    auto deadline = Clock::now() + 45s;
    for (int step = 0; step < 2000 && !stop && Clock::now() < deadline; ++step) {
      bool ok = (step % 10 != 0 || browser.LogIn(user, pw)) && browser.Get("/api/me") == 200 &&
                browser.Get("/api/mail") == 200;
      if (ok) {
        ++t.ok;
        if (is_a && a_restarted) ++t.ok_after_restart;
      } else if (!(is_a && a_down)) {
        ++t.failed;  // failures on A while it is down are expected and not counted
      } else {
        std::this_thread::sleep_for(20ms);  // A is down: do not spin on refused connects
      }
      if (!ok && is_a) step = step - step % 10 - 1;  // log in again on the next step
    }
  };
  std::thread load_a(load, a.http_port, "bob", std::ref(on_a), true);
  std::thread load_b(load, b.http_port, "ann", std::ref(on_b), false);
  ASSERT_TRUE(WaitFor([&] { return on_a.ok >= 10 && on_b.ok >= 10; }, 30s));

  // Crash A. Its in-flight requests fail; B must not notice.
  const int grpc_a = a.grpc_port;
  const std::string a_label = absl::StrCat("coordinator=\"127.0.0.1:", grpc_a, "\"");
  a_down = true;
  a.process.Kill();
  a.process.Wait(5s);
  const int b_ok_at_kill = on_b.ok;
  std::vector<double> failed_beats_at_kill;
  for (int m : frontend_metrics_) {
    failed_beats_at_kill.push_back(Metric(m, "heartbeats_sent_total", {a_label, "failed"}));
  }
  // Over twice B's down-timeout (2 s; generous, for a loaded machine): every node stays
  // healthy at B the whole time.
  auto until = Clock::now() + 4500ms;
  while (Clock::now() < until) {
    EXPECT_EQ(HealthyNodes(b), (std::pair{kFrontends, 1}));
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_GT(on_b.ok.load(), b_ok_at_kill) << "B served nothing while A was down";
  // The frontends keep beating to the dead coordinator (and count the failures).
  for (size_t i = 0; i < frontend_metrics_.size(); ++i) {
    EXPECT_GT(Metric(frontend_metrics_[i], "heartbeats_sent_total", {a_label, "failed"}),
              failed_beats_at_kill[i])
        << "frontend " << i;
  }

  // Restart A on the same ports with nothing but its flags: it learns the fleet from
  // heartbeats alone.
  auto restarted_at = Clock::now();
  ASSERT_TRUE(StartCoordinator(0).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        return HealthyNodes(a) == std::pair{kFrontends, 1};
      },
      5s))
      << "A did not relearn the fleet within 5 s; see " << dir_;
  auto relearned =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - restarted_at);
  std::cout << "restarted coordinator relearned 3 frontends + smtp in " << relearned.count()
            << " ms (from exec)\n";
  a_restarted = true;
  a_down = false;
  EXPECT_TRUE(WaitFor([&] { return on_a.ok_after_restart >= 5; }, 15s))
      << "A does not serve after its restart";
  stop = true;
  load_a.join();
  load_b.join();
  std::cout << "through A: " << on_a.ok << " ok, " << on_a.failed << " failed outside its "
            << "downtime; through B: " << on_b.ok << " ok, " << on_b.failed << " failed\n";
  EXPECT_EQ(on_b.failed.load(), 0);
  EXPECT_EQ(on_a.failed.load(), 0);
  EXPECT_GE(on_b.ok.load(), 20);

  // The mail is there through either door, and the admin console works on both.
  for (Coordinator* c : {&a, &b}) {
    Browser user(c->http_port);
    ASSERT_TRUE(user.LogIn("ann", pw));
    EXPECT_NE(user.Body("/api/mail").find("multi-coordinator-hello"), std::string::npos);
    Browser admin(c->http_port);
    ASSERT_TRUE(WaitFor([&] { return admin.LogIn("admin", kAdminPassword); }, 20s));
    auto nodes = json::parse(admin.Body("/api/admin/nodes"), nullptr, false);
    ASSERT_FALSE(nodes.is_discarded());
    int up = 0;
    for (const json& n : nodes["nodes"]) {
      if (n["tier"] == "frontend" && n["health"] == "up") ++up;
    }
    EXPECT_EQ(up, kFrontends) << "console at :" << c->http_port << ": " << nodes.dump();
  }
}

}  // namespace
}  // namespace penncloud::testing
