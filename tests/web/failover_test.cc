// Failover through the coordinator: three frontends behind :8000 under a steady load of
// idempotent requests; one frontend is SIGKILLed mid-load and later restarted. Users at
// :8000 must see no failed request, the coordinator must mark the dead frontend down within
// its timeout, and the restarted one must be back in rotation.
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/web/http_client.h"
#include "tests/web/web_cluster.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Polls `done` until it holds or `timeout` passes; whether it held.
template <typename Pred>
bool WaitUntil(Pred done, milliseconds timeout) {
  for (auto deadline = Clock::now() + timeout; Clock::now() < deadline;) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return done();
}

TEST(FailoverTest, KilledFrontendIsInvisibleToUsersAndComesBack) {
  constexpr int kDownAfterMs = 3000;
  auto started = WebCluster::Start({.frontends = 3, .down_after_ms = kDownAfterMs});
  ASSERT_TRUE(started.ok()) << started.status();
  WebCluster& cluster = **started;

  HttpClient setup(cluster.http_port());
  auto signup =
      setup.Send("POST", "/api/signup", R"({"username":"loadtester","password":"password1"})");
  ASSERT_TRUE(signup.ok() && signup->status == 201);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0}, failed{0};
  std::atomic<int> stale{0};
  std::vector<std::string> failures;
  std::mutex failures_mu;
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      HttpClient c(cluster.http_port());
      c.jar() = setup.jar();
      // Bounded: at most 100k requests per thread, and the test stops it after ~15 s.
      for (int i = 0; i < 100000 && !stop.load(); ++i) {
        const char* target = (i + t) % 2 ? "/api/me" : "/login";
        auto r = c.Send("GET", target);
        if (r.ok() && r->status == 200) {
          ++ok;
        } else {
          ++failed;
          std::lock_guard lock(failures_mu);
          if (failures.size() < 10) {
            failures.push_back(r.ok() ? std::to_string(r->status) + " " + r->body
                                      : r.status().ToString());
          }
        }
      }
      stale += c.stale_retries;
    });
  }

  // The load runs, and runs through every frontend.
  EXPECT_TRUE(WaitUntil(
      [&] {
        if (ok.load() < 200) return false;
        auto nodes = cluster.Nodes();
        if (!nodes.ok()) return false;
        int serving = 0;
        for (const auto& n : *nodes) {
          serving += n.kind() == "frontend" && n.load().requests_per_second() > 0;
        }
        return serving == 3;
      },
      milliseconds(20000)))
      << "load loop is not running on all three frontends: " << ok.load() << " requests";
  Clock::time_point killed_at = Clock::now();
  cluster.KillFrontend(1);
  bool marked_down = cluster.WaitForHealth(1, false, milliseconds(kDownAfterMs + 2000));
  auto down_after = std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at);
  EXPECT_TRUE(marked_down);
  EXPECT_LE(down_after.count(), kDownAfterMs + 1500);

  // Users keep being served while it is down.
  int64_t at_down = ok.load();
  EXPECT_TRUE(WaitUntil([&] { return ok.load() >= at_down + 100; }, milliseconds(10000)));
  ASSERT_TRUE(cluster.RestartFrontend(1).ok());
  EXPECT_TRUE(cluster.WaitForHealth(1, true, milliseconds(5000)));
  // Back in rotation: the restarted frontend reports traffic in its heartbeats.
  bool serving = false;
  for (auto deadline = Clock::now() + milliseconds(6000); Clock::now() < deadline && !serving;) {
    std::this_thread::sleep_for(milliseconds(200));
    auto nodes = cluster.Nodes();
    if (!nodes.ok()) continue;
    for (const auto& n : *nodes) {
      if (n.address() == cluster.frontend_address(1) && n.healthy() &&
          n.load().requests_per_second() > 0) {
        serving = true;
      }
    }
  }
  EXPECT_TRUE(serving) << "restarted frontend gets no requests";
  int64_t after_restart = ok.load();
  EXPECT_TRUE(WaitUntil([&] { return ok.load() >= after_restart + 100; }, milliseconds(10000)))
      << "load stalled after the restart";
  stop = true;
  for (auto& th : clients) th.join();

  EXPECT_EQ(failed.load(), 0) << "first failures: " << (failures.empty() ? "" : failures[0]);
  EXPECT_EQ(stale.load(), 0);
  RecordProperty("requests_ok", static_cast<int>(ok.load()));
  RecordProperty("down_detected_ms", static_cast<int>(down_after.count()));
}

}  // namespace
}  // namespace penncloud::testing
