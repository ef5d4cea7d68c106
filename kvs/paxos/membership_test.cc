#include "kvs/paxos/membership.h"

#include <gtest/gtest.h>

namespace penncloud::paxos {
namespace {

Membership Voters(std::initializer_list<NodeId> ids, uint32_t window = 4) {
  Membership m;
  for (NodeId id : ids) m.add_voters(id);
  m.set_window(window);
  return m;
}

TEST(ConfigTrackerTest, ChangeGovernsFromSlotPlusWindow) {
  ConfigTracker t;
  ConfigState st;
  *st.mutable_current() = Voters({1, 2, 3});
  t.Reset(st, 0);
  t.OnChosen(10, Voters({1, 2, 3, 4}, 0));
  EXPECT_EQ(t.ForSlot(13).voters_size(), 3);
  EXPECT_EQ(t.ForSlot(14).voters_size(), 4);
  EXPECT_EQ(t.ForSlot(14).window(), 4u);  // the window is inherited
  EXPECT_TRUE(t.ChangePendingAt(11));
  EXPECT_FALSE(t.ChangePendingAt(14));
  EXPECT_EQ(t.SpansFrom(11).size(), 2u);
  EXPECT_EQ(t.SpansFrom(14).size(), 1u);
}

TEST(ConfigTrackerTest, StateAtSnapshotSlot) {
  ConfigTracker t;
  ConfigState st;
  *st.mutable_current() = Voters({1, 2, 3});
  t.Reset(st, 0);
  t.OnChosen(10, Voters({1, 2}));
  // A snapshot at 9 knows nothing of the change at 10.
  ConfigState at9 = t.StateAt(9);
  EXPECT_EQ(at9.current().voters_size(), 3);
  EXPECT_EQ(at9.next_from(), 0u);
  // At 11 the change is chosen but governs from 14 on.
  ConfigState at11 = t.StateAt(11);
  EXPECT_EQ(at11.current().voters_size(), 3);
  EXPECT_EQ(at11.next_from(), 14u);
  EXPECT_EQ(at11.next().voters_size(), 2);
  // At 20 it is the current one.
  ConfigState at20 = t.StateAt(20);
  EXPECT_EQ(at20.current().voters_size(), 2);
  EXPECT_EQ(at20.next_from(), 0u);
  t.Prune(21);
  EXPECT_EQ(t.spans().size(), 1u);
  EXPECT_EQ(t.ForSlot(1).voters_size(), 2);
}

TEST(MembershipTest, Quorums) {
  EXPECT_EQ(QuorumSize(Voters({1, 2, 3})), 2u);
  EXPECT_EQ(QuorumSize(Voters({1, 2, 3, 4})), 3u);
  Membership m = Voters({1, 2});
  m.add_learners(3);
  EXPECT_TRUE(IsVoter(m, 1));
  EXPECT_FALSE(IsVoter(m, 3));
  EXPECT_TRUE(IsMember(m, 3));
}

}  // namespace
}  // namespace penncloud::paxos
