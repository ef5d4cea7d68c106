#include "kvs/paxos/election.h"

#include <gtest/gtest.h>

#include "kvs/paxos/ballot.h"

namespace penncloud::paxos {
namespace {

EntryPtr Accepted(Slot s, uint64_t round, const std::string& cmd) {
  auto e = std::make_shared<Entry>();
  e->set_slot(s);
  *e->mutable_ballot() = MakeBallot(round, 9);
  e->set_type(ENTRY_COMMANDS);
  e->add_commands(cmd);
  return e;
}

TEST(ElectionTest, HighestBallotValueWinsPerSlot) {
  Election el;
  el.Start(MakeBallot(5, 1), 10);
  EXPECT_TRUE(el.AddPromise(1, 9, {Accepted(10, 2, "a"), Accepted(12, 4, "c")}));
  EXPECT_TRUE(el.AddPromise(2, 9, {Accepted(10, 3, "b"), Accepted(12, 1, "z")}));
  EXPECT_FALSE(el.AddPromise(2, 9, {}));  // duplicate promise
  EXPECT_EQ(el.max_slot(), 12u);
  EXPECT_EQ(el.Best(10)->commands(0), "b");
  EXPECT_FALSE(el.Best(11));  // a gap: the leader fills it with a no-op
  EXPECT_EQ(el.Best(12)->commands(0), "c");
  EXPECT_EQ(el.promisers().size(), 2u);
}

TEST(ElectionTest, TracksRecoveredMembershipChanges) {
  Election el;
  el.Start(MakeBallot(5, 1), 1);
  auto cfg = std::make_shared<Entry>();
  cfg->set_slot(3);
  *cfg->mutable_ballot() = MakeBallot(2, 9);
  cfg->set_type(ENTRY_CONFIG);
  cfg->mutable_membership()->add_voters(7);
  el.AddPromise(1, 0, {cfg});
  ASSERT_EQ(el.recovered_configs().size(), 1u);
  // A higher-ballot plain value replaces it.
  el.AddPromise(2, 0, {Accepted(3, 3, "x")});
  EXPECT_TRUE(el.recovered_configs().empty());
  EXPECT_EQ(el.max_commit(), 0u);
}

}  // namespace
}  // namespace penncloud::paxos
