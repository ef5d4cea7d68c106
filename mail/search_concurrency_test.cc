#include "mail/search_concurrency.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace penncloud::mail {
namespace {

TEST(ForEachConcurrentlyTest, EveryIndexRunsOnceAndTheFirstErrorIsReturned) {
  for (size_t n : {0, 1, 2, 64, 1000}) {
    std::vector<std::atomic<int>> runs(n);
    absl::Status s = ForEachConcurrently(n, 16, [&](size_t i) {
      runs[i]++;
      return i == 7 ? absl::NotFoundError("seven") : absl::OkStatus();
    });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "n=" << n << " i=" << i;
    if (n > 7) {
      EXPECT_EQ(s, absl::NotFoundError("seven"));
    } else {
      EXPECT_TRUE(s.ok());
    }
  }
}

// Calls that wait (as KVS reads do) overlap on up to `threads` threads, the caller's among
// them, and the helper threads are kept between calls rather than started for each.
TEST(ForEachConcurrentlyTest, WaitingCallsOverlapOnKeptThreads) {
  static thread_local int last_round = -1;
  static thread_local int rounds_served = 0;
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> round{0}, running{0}, most{0};
  std::atomic<bool> kept{false};
  auto op = [&](size_t) {
    int now = ++running;
    for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --running;
    if (last_round != round.load()) {
      last_round = round.load();
      ++rounds_served;
    }
    if (rounds_served > 1 && std::this_thread::get_id() != caller) kept = true;
    return absl::OkStatus();
  };
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(ForEachConcurrently(16, 16, op).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(16 * 20 / 2))
      << "the calls did not overlap";
  EXPECT_GT(most.load(), 1);
  EXPECT_LE(most.load(), 16);
  for (int r = 1; r <= 5; ++r) {
    round = r;
    ASSERT_TRUE(ForEachConcurrently(16, 16, op).ok());
  }
  EXPECT_TRUE(kept.load()) << "no helper thread served two calls: threads are started per call";
}

// A job run from inside another job's call finishes: a caller never waits on a helper
// that is itself waiting.
TEST(ForEachConcurrentlyTest, NestedCallsFinish) {
  std::atomic<int> inner{0};
  ASSERT_TRUE(ForEachConcurrently(32, 16, [&](size_t) {
                return ForEachConcurrently(8, 4, [&](size_t) {
                  ++inner;
                  return absl::OkStatus();
                });
              }).ok());
  EXPECT_EQ(inner.load(), 32 * 8);
}

}  // namespace
}  // namespace penncloud::mail
