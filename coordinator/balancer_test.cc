#include "coordinator/balancer.h"

#include <vector>

#include "gtest/gtest.h"

namespace penncloud::coordinator {
namespace {

class BalancerTest : public ::testing::Test {
 protected:
  Upstream a_{"a:1", 1}, b_{"b:1", 1}, c_{"c:1", 1};
};

TEST_F(BalancerTest, LeastLoadedWinsCountingOwnAndReportedRequests) {
  a_.active = 2;  // ours: 2 + reported 0
  b_.active = 0;  // ours: 0 + reported 5
  c_.active = 1;  // ours: 1 + reported 0
  std::vector<Candidate> healthy{{&a_, 0}, {&b_, 5}, {&c_, 0}};
  for (uint64_t turn = 0; turn < 3; ++turn) {
    EXPECT_EQ(PickUpstream(healthy, {}, turn), &c_) << turn;
  }
}

TEST_F(BalancerTest, TiesGoRoundRobin) {
  std::vector<Candidate> healthy{{&a_, 0}, {&b_, 0}, {&c_, 0}};
  EXPECT_EQ(PickUpstream(healthy, {}, 0), &a_);
  EXPECT_EQ(PickUpstream(healthy, {}, 1), &b_);
  EXPECT_EQ(PickUpstream(healthy, {}, 2), &c_);
  EXPECT_EQ(PickUpstream(healthy, {}, 3), &a_);
}

TEST_F(BalancerTest, TriedFrontendsAreSkippedEvenWhenLeastLoaded) {
  b_.active = 9;
  std::vector<Candidate> healthy{{&a_, 0}, {&b_, 0}};
  std::vector<Upstream*> tried{&a_};
  EXPECT_EQ(PickUpstream(healthy, tried, 0), &b_);
  tried.push_back(&b_);
  EXPECT_EQ(PickUpstream(healthy, tried, 0), nullptr);
}

TEST_F(BalancerTest, NoCandidateIsNull) { EXPECT_EQ(PickUpstream({}, {}, 7), nullptr); }

}  // namespace
}  // namespace penncloud::coordinator
