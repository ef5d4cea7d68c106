#include "kvs/paxos/read_index.h"

#include <gtest/gtest.h>

namespace penncloud::paxos {
namespace {

TEST(ReadTrackerTest, ReadWaitsForRoundAndApply) {
  ReadTracker t;
  t.Reset(100);
  t.Add(1, 5, t.round() + 1);
  EXPECT_EQ(t.NewRound(103), 1u);
  std::vector<ReadState> out;
  t.Release(10, &out);
  EXPECT_TRUE(out.empty());  // round 1 not confirmed yet
  t.Confirm(1);
  EXPECT_EQ(t.confirmed_sent_tick(), 103);
  t.Release(4, &out);
  EXPECT_TRUE(out.empty());  // not applied up to 5 yet
  t.Release(5, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 1u);
}

TEST(ReadTrackerTest, InvalidateNeedsANewRound) {
  ReadTracker t;
  t.Reset(0);
  t.NewRound(1);
  t.Confirm(1);
  EXPECT_TRUE(t.lease_usable());
  t.Add(7, 0, 1);
  t.Invalidate();
  EXPECT_FALSE(t.lease_usable());
  std::vector<ReadState> out;
  t.Release(10, &out);
  EXPECT_TRUE(out.empty());
  t.NewRound(2);
  t.Confirm(2);
  t.Release(10, &out);
  EXPECT_EQ(out.size(), 1u);
  std::vector<uint64_t> failed;
  t.Add(8, 0, 9);
  t.FailAll(&failed);
  EXPECT_EQ(failed, std::vector<uint64_t>{8});
}

}  // namespace
}  // namespace penncloud::paxos
