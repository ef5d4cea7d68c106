#include "kvs/paxos/sim/garbage.h"

#include <gtest/gtest.h>

#include <map>

#include "kvs/paxos/ballot.h"
#include "kvs/paxos/message_check.h"

namespace penncloud::paxos::sim {
namespace {

// One real message of each type, as cores of the group {1, 2, 3} send them to replica 1.
std::vector<Message> RealMessages() {
  std::vector<Message> out;
  auto base = [](MessageType t, uint64_t round, NodeId ballot_node) {
    Message m;
    m.set_type(t);
    m.set_from(2);
    m.set_to(1);
    *m.mutable_ballot() = MakeBallot(round, ballot_node);
    return m;
  };
  Message prepare = base(MSG_PREPARE, 9, 2);
  prepare.set_from_slot(21);
  prepare.set_commit(20);
  out.push_back(prepare);
  Message promise = base(MSG_PROMISE, 9, 1);
  promise.set_from_slot(21);
  promise.set_commit(20);
  for (Slot s : {21, 23}) {
    Entry* e = promise.add_entries();
    e->set_slot(s);
    *e->mutable_ballot() = MakeBallot(4, 3);
  }
  out.push_back(promise);
  Message accept = base(MSG_ACCEPT, 9, 2);
  accept.set_commit(20);
  accept.set_round_id(7);
  for (Slot s : {21, 22}) {
    Entry* e = accept.add_entries();
    e->set_slot(s);
    *e->mutable_ballot() = accept.ballot();
    e->set_type(ENTRY_COMMANDS);
    e->add_commands("x");
  }
  out.push_back(accept);
  Message accepted = base(MSG_ACCEPTED, 9, 1);
  accepted.set_match(22);
  accepted.set_commit(20);
  accepted.set_acked_lo(21);
  accepted.set_acked_hi(22);
  out.push_back(accepted);
  Message snapshot = base(MSG_SNAPSHOT, 9, 2);
  snapshot.mutable_snapshot()->set_slot(15);
  for (NodeId v : {1, 2, 3})
    snapshot.mutable_snapshot()->mutable_config()->mutable_current()->add_voters(v);
  out.push_back(snapshot);
  out.push_back(base(MSG_REJECT, 9, 2));
  return out;
}

TEST(GarbageTest, EveryMalformedMessageIsDroppedByACore) {
  Rng rng(12345);
  std::map<std::string, int> made;
  int replays = 0;
  for (int round = 0; round < 300; ++round) {
    for (const Message& real : RealMessages()) {
      // Replica 1 of {1, 2, 3}, commit 20, candidate in ballot (9, 1) once it campaigned.
      Config c;
      c.id = 1;
      c.max_entries_per_message = 8;
      c.max_batch_commands = 8;
      PersistentState st;
      st.snapshot.set_slot(20);
      for (NodeId v : {1, 2, 3}) st.snapshot.mutable_config()->mutable_current()->add_voters(v);
      st.snapshot.mutable_config()->mutable_current()->set_window(4);
      st.hard_state.set_commit(20);
      st.applied = 20;
      Node node(c, std::move(st));
      Garbage g = MakeGarbage(rng, real, GarbageLimits{8, 8});
      ++made[g.what];
      if (!g.must_drop) {
        ++replays;
        EXPECT_EQ(g.msg.SerializeAsString(), real.SerializeAsString());
        continue;
      }
      // A forged sender the core cannot judge is the server's to refuse.
      if (g.forged_sender && !JudgesMembership(g.msg, 20, 20)) continue;
      EXPECT_NE(node.Step(g.msg), DropReason::kNone) << g.what << ": " << g.msg.ShortDebugString();
      EXPECT_FALSE(node.HasReady()) << g.what;
    }
  }
  EXPECT_GT(replays, 0);
  for (const char* kind :
       {"non_member", "wrong_recipient", "from_self", "unknown_type", "huge_ballot", "absurd_slot",
        "foreign_field", "not_its_ballot", "bad_entries", "bad_entry", "random"}) {
    EXPECT_GT(made[kind], 0) << kind;
  }
}

}  // namespace
}  // namespace penncloud::paxos::sim
