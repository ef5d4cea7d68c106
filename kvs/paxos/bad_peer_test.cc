// A core facing a bad peer: malformed or out-of-range messages and senders that are not
// members are dropped, with their reason, before they can promise, accept or persist
// anything (docs/paxos.md, "Messages a replica drops"); honest peers the receiver does not
// know yet still get through. Also the catch-up snapshot a refusing replica sends.
#include <gtest/gtest.h>

#include <memory>

#include "kvs/paxos/ballot.h"
#include "kvs/paxos/message_check.h"
#include "kvs/paxos/node.h"

namespace penncloud::paxos {
namespace {

Membership Voters(std::initializer_list<NodeId> ids) {
  Membership m;
  for (NodeId id : ids) m.add_voters(id);
  m.set_window(4);
  return m;
}

// Replica `id` restarted from a snapshot at `slot` whose memberships are `members`.
std::unique_ptr<Node> NodeAt(NodeId id, const Membership& members, Slot slot = 0,
                             Ballot promised = Ballot()) {
  Config c;
  c.id = id;
  c.seed = id;
  c.max_entries_per_message = 4;
  c.max_batch_commands = 4;
  PersistentState st;
  st.snapshot.set_slot(slot);
  *st.snapshot.mutable_config()->mutable_current() = members;
  st.hard_state.set_commit(slot);
  *st.hard_state.mutable_promised() = promised;
  st.applied = slot;
  return std::make_unique<Node>(c, std::move(st));
}

Message Msg(MessageType type, NodeId from, NodeId to, uint64_t round, NodeId ballot_node) {
  Message m;
  m.set_type(type);
  m.set_from(from);
  m.set_to(to);
  *m.mutable_ballot() = MakeBallot(round, ballot_node);
  return m;
}

// A leader's ACCEPT carrying slots lo..hi (no-ops).
Message Accept(NodeId from, NodeId to, uint64_t round, Slot lo, Slot hi, Slot commit) {
  Message m = Msg(MSG_ACCEPT, from, to, round, from);
  m.set_commit(commit);
  for (Slot s = lo; s <= hi; ++s) {
    Entry* e = m.add_entries();
    e->set_slot(s);
    *e->mutable_ballot() = m.ballot();
  }
  return m;
}

// Steps `m` into `node` and expects it dropped for `why` with nothing to persist or send.
void ExpectDropped(Node& node, Message m, DropReason why) {
  const NodeStatus before = node.Status();
  const uint64_t counted = node.drops().by_reason[size_t(why)];
  EXPECT_EQ(node.Step(m), why) << DropReasonName(why) << ": " << m.ShortDebugString();
  EXPECT_EQ(node.drops().by_reason[size_t(why)], counted + 1);
  EXPECT_FALSE(node.HasReady()) << m.ShortDebugString();
  const NodeStatus after = node.Status();
  EXPECT_EQ(after.ballot, before.ballot);
  EXPECT_EQ(after.commit, before.commit);
  EXPECT_EQ(after.last_slot, before.last_slot);
  EXPECT_EQ(after.leader, before.leader);
}

TEST(BadPeerTest, HugeBallotFromNonMemberIsNeitherPromisedNorPersisted) {
  // Issue 15: such an ACCEPT was promised and persisted, and no real replica led again.
  auto node = NodeAt(1, Voters({1, 2, 3}), /*slot=*/5);
  ExpectDropped(*node, Accept(99, 1, kMaxRound, 6, 7, 5), DropReason::kNotMember);
  Message prepare = Msg(MSG_PREPARE, 0, 1, 7, 0);
  prepare.set_from_slot(6);
  prepare.set_commit(5);
  ExpectDropped(*node, prepare, DropReason::kNotMember);
}

TEST(BadPeerTest, RoundThatWouldOverflowTheNextBallotIsDropped) {
  auto node = NodeAt(1, Voters({1, 2, 3}));
  ExpectDropped(*node, Accept(2, 1, UINT64_MAX, 1, 1, 0), DropReason::kBadBallot);
  ExpectDropped(*node, Accept(2, 1, kMaxRound + 1, 1, 1, 0), DropReason::kBadBallot);
  // Our own next ballot still goes above every round seen.
  for (int i = 0; i < 30 && node->Status().role == Role::kFollower; ++i) node->Tick();
  EXPECT_EQ(node->Status().role, Role::kCandidate);
  EXPECT_EQ(node->Status().ballot.round(), 1u);
}

TEST(BadPeerTest, PromiseWithAbsurdSlotDoesNotCrashTheCandidate) {
  auto node = NodeAt(1, Voters({1, 2, 3}));
  for (int i = 0; i < 30 && node->Status().role == Role::kFollower; ++i) node->Tick();
  ASSERT_EQ(node->Status().role, Role::kCandidate);
  node->TakeReady();
  node->Advance();
  const Ballot b = node->Status().ballot;
  Message p = Msg(MSG_PROMISE, 2, 1, b.round(), b.node());
  p.set_from_slot(1);
  Entry* e = p.add_entries();
  e->set_slot(uint64_t{1} << 61);  // before: the election sized its table by this slot
  *e->mutable_ballot() = MakeBallot(1, 2);
  ExpectDropped(*node, p, DropReason::kBadSlot);
  EXPECT_EQ(node->Status().role, Role::kCandidate);
  // A promise for another election's slots contradicts our (unique) ballot.
  Message stale = Msg(MSG_PROMISE, 2, 1, b.round(), b.node());
  stale.set_from_slot(5);
  EXPECT_EQ(node->Step(stale), DropReason::kInconsistent);
}

TEST(BadPeerTest, MalformedMessagesFromAMemberAreDroppedWithTheirReason) {
  auto node = NodeAt(1, Voters({1, 2, 3}), /*slot=*/10, MakeBallot(3, 2));
  ExpectDropped(*node, Accept(2, 5, 3, 11, 11, 10), DropReason::kWrongRecipient);
  ExpectDropped(*node, Accept(1, 1, 3, 11, 11, 10), DropReason::kFromSelf);
  Message unknown = Accept(2, 1, 3, 11, 11, 10);
  unknown.set_type(static_cast<MessageType>(42));
  ExpectDropped(*node, unknown, DropReason::kUnknownType);
  // PREPARE and ACCEPT carry the sender's own ballot.
  ExpectDropped(*node, Msg(MSG_PREPARE, 2, 1, 9, 3), DropReason::kBadBallot);
  Message zero_from = Msg(MSG_PREPARE, 2, 1, 9, 2);
  ExpectDropped(*node, zero_from, DropReason::kBadSlot);  // from_slot 0
  Message skew = Msg(MSG_PREPARE, 2, 1, 9, 2);
  skew.set_from_slot(20);
  skew.set_commit(3);  // a candidate asks from commit + 1
  ExpectDropped(*node, skew, DropReason::kInconsistent);
  ExpectDropped(*node, Accept(2, 1, 3, 11, 11, kMaxSlot + 1), DropReason::kBadSlot);
  Message far = Accept(2, 1, 3, 11, 11, 10);
  far.mutable_entries(0)->set_slot(UINT64_MAX);
  ExpectDropped(*node, far, DropReason::kBadSlot);
  Message foreign = Accept(2, 1, 3, 11, 11, 10);
  foreign.set_refused(true);
  ExpectDropped(*node, foreign, DropReason::kInconsistent);
  Message gap = Accept(2, 1, 3, 11, 12, 10);
  gap.mutable_entries(1)->set_slot(14);
  ExpectDropped(*node, gap, DropReason::kInconsistent);
  ExpectDropped(*node, Accept(2, 1, 3, 11, 15, 10), DropReason::kTooLarge);  // 5 > 4
  Message fat = Accept(2, 1, 3, 11, 11, 10);
  for (int i = 0; i < 5; ++i) fat.mutable_entries(0)->add_commands("c");
  ExpectDropped(*node, fat, DropReason::kTooLarge);
  Message odd = Accept(2, 1, 3, 11, 11, 10);
  odd.mutable_entries(0)->set_type(static_cast<EntryType>(9));
  ExpectDropped(*node, odd, DropReason::kBadEntry);
  Message voterless = Accept(2, 1, 3, 11, 11, 10);
  voterless.mutable_entries(0)->set_type(ENTRY_CONFIG);
  voterless.mutable_entries(0)->mutable_membership()->add_learners(2);
  ExpectDropped(*node, voterless, DropReason::kBadEntry);
  Message acked = Msg(MSG_ACCEPTED, 2, 1, 3, 2);
  acked.set_acked_lo(12);
  acked.set_acked_hi(11);
  ExpectDropped(*node, acked, DropReason::kInconsistent);
  Message snap = Msg(MSG_SNAPSHOT, 2, 1, 3, 2);
  snap.mutable_snapshot()->set_slot(0);
  *snap.mutable_snapshot()->mutable_config()->mutable_current() = Voters({1, 2, 3});
  ExpectDropped(*node, snap, DropReason::kBadSlot);
  // The same ACCEPT, well formed, is taken.
  EXPECT_EQ(node->Step(Accept(2, 1, 3, 11, 11, 10)), DropReason::kNone);
  EXPECT_EQ(node->drops().total(), 16u);
}

TEST(BadPeerTest, RemovedMemberIsDroppedButANewerMemberAheadOfUsIsNot) {
  // Our snapshot says 2 was removed (voters 1, 3, 4) as of slot 10.
  auto node = NodeAt(1, Voters({1, 3, 4}), /*slot=*/10);
  // 2 knows no more than we do: it is a member of nothing we have not chosen.
  ExpectDropped(*node, Accept(2, 1, 5, 11, 11, 10), DropReason::kNotMember);
  Message prepare = Msg(MSG_PREPARE, 2, 1, 6, 2);
  prepare.set_from_slot(11);
  prepare.set_commit(10);
  ExpectDropped(*node, prepare, DropReason::kNotMember);
  // A candidate behind our snapshot may have been a member of slots we compacted (and
  // forgot the memberships of): it gets our refusal and our snapshot.
  Message behind = Msg(MSG_PREPARE, 2, 1, 6, 2);
  behind.set_from_slot(9);
  behind.set_commit(8);
  EXPECT_EQ(node->Step(behind), DropReason::kNone);
  node->TakeReady();
  node->Advance();
  // 5 leads with a commit index past ours: it may have joined in slots we lack (we lag).
  EXPECT_EQ(node->Step(Accept(5, 1, 6, 11, 12, 30)), DropReason::kNone);
  EXPECT_EQ(node->leader(), std::optional<NodeId>(5));
}

TEST(BadPeerTest, CompactedReplicaSendsTheCandidateItsSnapshot) {
  // Seed 850133 of issue 18: the only replica that knew slots 89-90 chosen had compacted
  // them, and refused the candidate that needed them forever.
  auto node = NodeAt(1, Voters({1, 2}), /*slot=*/10);
  Message prepare = Msg(MSG_PREPARE, 2, 1, 4, 2);
  prepare.set_from_slot(6);
  prepare.set_commit(5);
  ASSERT_EQ(node->Step(prepare), DropReason::kNone);
  Ready rd = node->TakeReady();
  bool refused = false, snapshot = false;
  for (const Message& m : rd.messages) {
    if (m.type() == MSG_PROMISE && m.refused()) refused = true;
    if (m.type() == MSG_SNAPSHOT) {
      snapshot = true;
      EXPECT_EQ(m.to(), 2u);
      EXPECT_EQ(m.snapshot().slot(), 10u);
      EXPECT_EQ(m.ballot().round(), 0u);  // claims no leadership
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(snapshot);
}

TEST(BadPeerTest, CatchUpSnapshotIsInstalledWithoutAPromise) {
  auto node = NodeAt(2, Voters({1, 2}), /*slot=*/5, MakeBallot(7, 2));
  Message snap = Msg(MSG_SNAPSHOT, 1, 2, 0, 0);
  snap.mutable_snapshot()->set_slot(10);
  *snap.mutable_snapshot()->mutable_config()->mutable_current() = Voters({1, 2});
  ASSERT_EQ(node->Step(snap), DropReason::kNone);
  Ready rd = node->TakeReady();
  ASSERT_TRUE(rd.snapshot.has_value());
  EXPECT_EQ(rd.snapshot->slot(), 10u);
  node->Advance();
  EXPECT_EQ(node->Status().commit, 10u);
  EXPECT_EQ(node->Status().ballot, MakeBallot(7, 2));
  EXPECT_FALSE(node->leader().has_value());
}

TEST(BadPeerTest, JoiningReplicaTakesItsFirstLeaderWhoeverItIs) {
  // An empty disk knows no membership: it cannot tell members apart (the server's
  // certificate check is all it has), so it must not refuse the leader that adds it.
  Config c;
  c.id = 4;
  Node node(c, PersistentState{});
  EXPECT_EQ(node.Step(Accept(1, 4, 2, 1, 1, 0)), DropReason::kNone);
  EXPECT_EQ(node.leader(), std::optional<NodeId>(1));
}

}  // namespace
}  // namespace penncloud::paxos
