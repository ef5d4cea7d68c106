// A frozen frontend behind :8000: one of two frontends is SIGSTOPped (its sockets stay
// open and the kernel keeps accepting for it, so nothing fails fast) while clients loop
// GETs and a non-idempotent POST is in flight to it. Users must wait seconds, not the 60 s
// upstream timeout: every GET succeeds within a bound, the POST sent to the frozen frontend
// gets a prompt 502 with a JSON error, the coordinator's metrics count the missed beats,
// and SIGCONT brings the frontend back into rotation.
#include <atomic>
#include <barrier>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/web/http_client.h"
#include "tests/web/web_cluster.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr int kHeartbeatMs = 250;
constexpr int kDownAfterMs = 1000;
// Down detection (kDownAfterMs) + the proxy's stall rule (1 s) + a sweep (0.2 s), with
// room for a loaded 2-core machine. The old behaviour was the 60 s upstream timeout.
constexpr int64_t kBoundMs = 4500;

// The value of the first series in a Prometheus text exposition whose line starts with
// `series` (name and labels exactly as exposed); -1 when absent.
double MetricValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

std::string Scrape(WebCluster& cluster) {
  HttpClient c(cluster.metrics_port());
  auto r = c.Send("GET", "/metrics");
  return r.ok() ? "\n" + r->body : "";
}

int64_t ElapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

TEST(FrozenFrontendTest, RequestsToAStoppedFrontendEndInSecondsAndItComesBack) {
  auto started = WebCluster::Start(
      {.frontends = 2, .down_after_ms = kDownAfterMs, .heartbeat_ms = kHeartbeatMs});
  ASSERT_TRUE(started.ok()) << started.status();
  WebCluster& cluster = **started;
  std::string frozen_name;
  auto nodes = cluster.Nodes();
  ASSERT_TRUE(nodes.ok());
  for (const auto& n : *nodes) {
    if (n.address() == cluster.frontend_address(1)) frozen_name = n.name();
  }
  ASSERT_FALSE(frozen_name.empty());

  HttpClient setup(cluster.http_port());
  const std::string credentials = R"({"username":"frozentester","password":"password1"})";
  auto signup = setup.Send("POST", "/api/signup", credentials);
  ASSERT_TRUE(signup.ok() && signup->status == 201);
  // Let both frontends report zero requests in flight, so the two POSTs below are spread
  // by the proxy's own counts alone.
  std::this_thread::sleep_for(milliseconds(3 * kHeartbeatMs));

  Clock::time_point stopped_at = Clock::now();
  cluster.StopFrontend(1);

  // Logins at once: the proxy sends each to the frontend with fewer requests in flight,
  // so some reach the frozen frontend (where they stay) while the healthy one hashes
  // passwords for tens of milliseconds each. A POST is not repeated once sent: those must
  // be answered 502 with a JSON error, promptly.
  constexpr int kPosts = 4;
  struct PostResult {
    int status = 0;
    std::string body;
    int64_t ms = 0;
  };
  PostResult posts[kPosts];
  {
    std::barrier sync(kPosts);
    std::vector<std::thread> senders;
    for (int i = 0; i < kPosts; ++i) {
      senders.emplace_back([&, i] {
        HttpClient c(cluster.http_port(), /*timeout_ms=*/20000);
        c.use_jar = false;
        sync.arrive_and_wait();
        Clock::time_point t = Clock::now();
        auto r = c.Send("POST", "/api/login", credentials);
        posts[i].ms = ElapsedMs(t);
        if (r.ok()) {
          posts[i].status = r->status;
          posts[i].body = r->body;
        } else {
          posts[i].body = r.status().ToString();
        }
      });
    }
    // Idempotent load meanwhile (started once the logins are placed, so that GETs stuck on
    // the frozen frontend do not steer them all away from it): four clients looping GETs,
    // bounded in count and time.
    std::this_thread::sleep_for(milliseconds(200));
    std::atomic<bool> stop{false};
    std::atomic<int64_t> ok{0}, failed{0}, max_ms{0};
    std::atomic<int> stale{0};
    std::mutex failures_mu;
    std::vector<std::string> failures;
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        HttpClient c(cluster.http_port(), /*timeout_ms=*/20000);
        c.jar() = setup.jar();
        for (int i = 0; i < 100000 && !stop.load(); ++i) {
          const char* target = (i + t) % 2 ? "/api/me" : "/login";
          Clock::time_point at = Clock::now();
          auto r = c.Send("GET", target);
          int64_t ms = ElapsedMs(at);
          int64_t seen = max_ms.load();
          while (ms > seen && !max_ms.compare_exchange_weak(seen, ms)) {
          }
          if (r.ok() && r->status == 200) {
            ++ok;
            continue;
          }
          ++failed;
          std::lock_guard lock(failures_mu);
          if (failures.size() < 5) {
            failures.push_back(r.ok() ? absl::StrCat(r->status, " ", r->body)
                                      : r.status().ToString());
          }
        }
        stale += c.stale_retries;
      });
    }

    EXPECT_TRUE(cluster.WaitForHealth(1, false, milliseconds(kDownAfterMs + 3000)));
    int64_t down_ms = ElapsedMs(stopped_at);
    std::this_thread::sleep_for(milliseconds(kBoundMs));  // every stuck request has ended
    std::string frozen_metrics = Scrape(cluster);
    for (auto& s : senders) s.join();

    // Resumed: heartbeats bring it back, and it gets requests again.
    cluster.ContinueFrontend(1);
    EXPECT_TRUE(cluster.WaitForHealth(1, true, milliseconds(5000)));
    bool serving = false;
    for (auto deadline = Clock::now() + milliseconds(6000); Clock::now() < deadline && !serving;) {
      std::this_thread::sleep_for(milliseconds(kHeartbeatMs));
      auto now_nodes = cluster.Nodes();
      if (!now_nodes.ok()) continue;
      for (const auto& n : *now_nodes) {
        if (n.address() == cluster.frontend_address(1) && n.healthy() &&
            n.load().requests_per_second() > 0) {
          serving = true;
        }
      }
    }
    stop = true;
    for (auto& th : clients) th.join();
    EXPECT_TRUE(serving) << "the resumed frontend gets no requests";

    EXPECT_GT(ok.load(), 50) << "load loop did not run";
    EXPECT_EQ(failed.load(), 0) << "first failure: " << (failures.empty() ? "" : failures[0]);
    EXPECT_EQ(stale.load(), 0);
    EXPECT_LE(max_ms.load(), kBoundMs) << "a GET waited on the frozen frontend";
    RecordProperty("gets_ok", static_cast<int>(ok.load()));
    RecordProperty("slowest_get_ms", static_cast<int>(max_ms.load()));
    RecordProperty("down_detected_ms", static_cast<int>(down_ms));

    // The coordinator's view while the frontend was frozen.
    EXPECT_EQ(MetricValue(frozen_metrics, R"(coordinator_nodes_up{kind="frontend"})"), 1);
    double missed =
        MetricValue(frozen_metrics,
                    absl::StrCat(R"(coordinator_heartbeats_missed_total{kind="frontend",node=")",
                                 frozen_name, "\"}"));
    EXPECT_GE(missed, kDownAfterMs / kHeartbeatMs - 1) << frozen_metrics;
    EXPECT_GE(MetricValue(frozen_metrics, "coordinator_upstream_abandoned_total"), 1)
        << "no exchange with the frozen frontend was ended";
    std::string after = Scrape(cluster);
    EXPECT_EQ(MetricValue(after, R"(coordinator_nodes_up{kind="frontend"})"), 2);
  }

  // Logins were served by the healthy frontend or, sent to the frozen one, answered 502.
  int served = 0, refused = 0;
  for (const PostResult& p : posts) {
    EXPECT_LE(p.ms, kBoundMs) << p.status << " " << p.body;
    if (p.status == 200) ++served;
    if (p.status == 502) {
      ++refused;
      auto body = nlohmann::json::parse(p.body, nullptr, false);
      EXPECT_TRUE(body.is_object() && body.contains("error")) << p.body;
    }
  }
  EXPECT_GE(served, 1);
  EXPECT_GE(refused, 1) << "no login reached the frozen frontend";
  EXPECT_EQ(served + refused, kPosts);
  RecordProperty("logins_refused", refused);
}

}  // namespace
}  // namespace penncloud::testing
