#include "kvs/paxos/ballot_box.h"

#include <gtest/gtest.h>

namespace penncloud::paxos {
namespace {

TEST(BallotBoxTest, ChosenPrefixNeedsQuorumPerSlot) {
  BallotBox box;
  box.Reset(1);
  auto majority = [](Slot, uint64_t mask) { return BallotBox::Count(mask & 0b111) >= 2; };
  box.Ack(1, 3, 0);
  EXPECT_EQ(box.Advance(majority), 0u);
  box.Ack(2, 3, 1);  // slot 1 still lacks a second acceptor
  EXPECT_EQ(box.Advance(majority), 0u);
  box.Ack(1, 1, 2);
  EXPECT_EQ(box.Advance(majority), 3u);
  EXPECT_EQ(box.first(), 4u);
  box.Ack(1, 2, 1);  // already chosen: ignored
  EXPECT_EQ(box.Advance(majority), 3u);
}

TEST(BallotBoxTest, SkipTo) {
  BallotBox box;
  box.Reset(5);
  box.Ack(5, 9, 0);
  box.SkipTo(8);
  EXPECT_EQ(box.first(), 8u);
  box.Ack(8, 9, 1);
  EXPECT_EQ(box.Advance([](Slot, uint64_t m) { return BallotBox::Count(m) >= 2; }), 9u);
}

}  // namespace
}  // namespace penncloud::paxos
