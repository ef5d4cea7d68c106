#include "coordinator/registry.h"

#include "gtest/gtest.h"

namespace penncloud::coordinator {
namespace {

using std::chrono::milliseconds;

TEST(Registry, DownAfterSilenceAndBackOnNextBeat) {
  Registry reg({.interval = milliseconds(1000),
                .down_after = milliseconds(3000),
                .suspect_for = milliseconds(2000)});
  Clock::time_point t0{};
  EXPECT_TRUE(reg.Beat("frontend", "a:1", "fe1", {}, 100, t0, 0));
  EXPECT_TRUE(reg.Beat("frontend", "b:1", "fe2", {}, 100, t0, 0));
  EXPECT_FALSE(reg.Beat("frontend", "a:1", "fe1", {}, 100, t0 + milliseconds(1000), 0));
  EXPECT_EQ(reg.Healthy("frontend", t0 + milliseconds(2999)).size(), 2u);
  // b's last beat was at t0: silent for 3 s -> down; a beat at 1 s -> still up.
  auto healthy = reg.Healthy("frontend", t0 + milliseconds(3000));
  ASSERT_EQ(healthy.size(), 1u);
  EXPECT_EQ(healthy[0].first, "a:1");
  EXPECT_TRUE(reg.Healthy("smtp", t0).empty());
  // b beats again: up at once.
  EXPECT_TRUE(reg.Beat("frontend", "b:1", "fe2", {}, 100, t0 + milliseconds(5000), 0));
  EXPECT_EQ(reg.Healthy("frontend", t0 + milliseconds(5000)).size(), 1u);  // a now silent 4 s
  auto all = reg.Snapshot("", t0 + milliseconds(5000));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[0].healthy);
  EXPECT_TRUE(all[1].healthy);
}

TEST(Registry, SuspectIsSkippedUntilExpiryOrRestart) {
  Registry reg;
  Clock::time_point t0{};
  reg.Beat("frontend", "a:1", "fe1", {.in_flight = 3}, 100, t0, 0);
  reg.MarkSuspect("a:1", t0 + milliseconds(100));
  // Heartbeats from the same process do not clear the suspicion (it may be wedged)...
  reg.Beat("frontend", "a:1", "fe1", {}, 100, t0 + milliseconds(500), 0);
  EXPECT_TRUE(reg.Healthy("frontend", t0 + milliseconds(600)).empty());
  EXPECT_EQ(reg.Healthy("frontend", t0 + milliseconds(2100)).size(), 1u);
  reg.MarkSuspect("a:1", t0 + milliseconds(2200));
  EXPECT_TRUE(reg.Healthy("frontend", t0 + milliseconds(2300)).empty());
  // ...but a restarted process is trusted at once.
  EXPECT_TRUE(reg.Beat("frontend", "a:1", "fe1", {}, 200, t0 + milliseconds(2400), 0));
  auto healthy = reg.Healthy("frontend", t0 + milliseconds(2400));
  ASSERT_EQ(healthy.size(), 1u);
  EXPECT_EQ(healthy[0].second.in_flight, 0);
}

TEST(Registry, CountsMissedBeatsWhileSilentAndSettlesOnTheNextBeat) {
  Registry reg({.interval = milliseconds(1000),
                .down_after = milliseconds(3000),
                .suspect_for = milliseconds(2000)});
  Clock::time_point t0{};
  auto missed = [&reg](Clock::time_point at) {
    return reg.Snapshot("frontend", at)[0].missed_beats;
  };
  reg.Beat("frontend", "a:1", "fe1", {}, 100, t0, 0);
  // A late beat within half an interval is not a miss.
  EXPECT_EQ(missed(t0 + milliseconds(1499)), 0);
  reg.Beat("frontend", "a:1", "fe1", {}, 100, t0 + milliseconds(1400), 0);
  EXPECT_EQ(missed(t0 + milliseconds(1400)), 0);
  // Frozen from here: the count grows while silent, before the node is marked down...
  Clock::time_point t1 = t0 + milliseconds(1400);
  EXPECT_EQ(missed(t1 + milliseconds(1500)), 1);
  EXPECT_TRUE(reg.Snapshot("frontend", t1 + milliseconds(1500))[0].healthy);
  EXPECT_EQ(missed(t1 + milliseconds(2600)), 2);
  EXPECT_FALSE(reg.Snapshot("frontend", t1 + milliseconds(3000))[0].healthy);
  // ...is never counted twice for one silence, and the resuming beat settles it.
  EXPECT_EQ(missed(t1 + milliseconds(2700)), 2);
  EXPECT_TRUE(reg.Beat("frontend", "a:1", "fe1", {}, 100, t1 + milliseconds(4000), 0));
  EXPECT_EQ(missed(t1 + milliseconds(4000)), 3);
  EXPECT_EQ(missed(t1 + milliseconds(5000)), 3);
  EXPECT_EQ(missed(t1 + milliseconds(5500)), 4);
}

}  // namespace
}  // namespace penncloud::coordinator
