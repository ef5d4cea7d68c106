// The configuration manager's decisions on node membership changes: what to propose, what
// is already done (a retried change), and what to refuse.
#include "kvs/server/membership_change.h"

#include <gtest/gtest.h>

namespace penncloud::kvs::server {
namespace {

paxos::Membership Of(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {}) {
  paxos::Membership m;
  for (uint64_t v : voters) m.add_voters(v);
  for (uint64_t l : learners) m.add_learners(l);
  m.set_window(4);
  return m;
}

pb::ChangeMembershipRequest Change(pb::MembershipChange kind, uint64_t id) {
  pb::ChangeMembershipRequest r;
  r.set_change(kind);
  r.mutable_member()->set_id(id);
  return r;
}

TEST(MembershipChangeTest, AddPromoteRemoveEachMoveOneReplica) {
  ChangePlan add = PlanChange(Of({1, 2, 3}), Change(pb::MEMBERSHIP_ADD_LEARNER, 4));
  ASSERT_EQ(add.kind, ChangePlan::Kind::kPropose);
  EXPECT_TRUE(SameMembers(add.target, Of({1, 2, 3}, {4})));
  EXPECT_EQ(add.target.window(), 4u) << "the window is kept";
  ChangePlan promote = PlanChange(add.target, Change(pb::MEMBERSHIP_PROMOTE, 4));
  ASSERT_EQ(promote.kind, ChangePlan::Kind::kPropose);
  EXPECT_TRUE(SameMembers(promote.target, Of({1, 2, 3, 4})));
  ChangePlan remove = PlanChange(promote.target, Change(pb::MEMBERSHIP_REMOVE, 2));
  ASSERT_EQ(remove.kind, ChangePlan::Kind::kPropose);
  EXPECT_TRUE(SameMembers(remove.target, Of({1, 3, 4})));
  ChangePlan drop_learner = PlanChange(Of({1, 2, 3}, {5}), Change(pb::MEMBERSHIP_REMOVE, 5));
  ASSERT_EQ(drop_learner.kind, ChangePlan::Kind::kPropose);
  EXPECT_TRUE(SameMembers(drop_learner.target, Of({1, 2, 3})));
}

TEST(MembershipChangeTest, ARetryOfAChosenChangeIsDone) {
  EXPECT_EQ(PlanChange(Of({1, 2, 3}, {4}), Change(pb::MEMBERSHIP_ADD_LEARNER, 4)).kind,
            ChangePlan::Kind::kDone);
  EXPECT_EQ(PlanChange(Of({1, 2, 3}), Change(pb::MEMBERSHIP_ADD_LEARNER, 3)).kind,
            ChangePlan::Kind::kDone)
      << "already a voter";
  EXPECT_EQ(PlanChange(Of({1, 2, 3, 4}), Change(pb::MEMBERSHIP_PROMOTE, 4)).kind,
            ChangePlan::Kind::kDone);
  EXPECT_EQ(PlanChange(Of({1, 2, 3}), Change(pb::MEMBERSHIP_REMOVE, 9)).kind,
            ChangePlan::Kind::kDone);
}

TEST(MembershipChangeTest, RefusesWhatCannotBeDone) {
  ChangePlan stranger = PlanChange(Of({1, 2, 3}), Change(pb::MEMBERSHIP_PROMOTE, 7));
  EXPECT_EQ(stranger.kind, ChangePlan::Kind::kInvalid);
  EXPECT_NE(stranger.error.find("not a learner"), std::string::npos) << stranger.error;
  ChangePlan last = PlanChange(Of({1}, {2}), Change(pb::MEMBERSHIP_REMOVE, 1));
  EXPECT_EQ(last.kind, ChangePlan::Kind::kInvalid);
  EXPECT_NE(last.error.find("last voter"), std::string::npos) << last.error;
  EXPECT_EQ(PlanChange(Of({1, 2, 3}), Change(pb::MEMBERSHIP_UNSPECIFIED, 2)).kind,
            ChangePlan::Kind::kInvalid);
}

TEST(MembershipChangeTest, SameMembersIgnoresOrderButNotRoles) {
  EXPECT_TRUE(SameMembers(Of({3, 1, 2}, {5, 4}), Of({1, 2, 3}, {4, 5})));
  EXPECT_FALSE(SameMembers(Of({1, 2, 3}, {4}), Of({1, 2, 3, 4})));
  EXPECT_FALSE(SameMembers(Of({1, 2}), Of({1, 2, 3})));
}

}  // namespace
}  // namespace penncloud::kvs::server
