#include "kvs/paxos/sim/garbage.h"

#include <utility>

#include "kvs/paxos/message_check.h"

namespace penncloud::paxos::sim {
namespace {

// Beyond every bound the core accepts, up to the largest value the field holds.
uint64_t Huge(Rng& rng) { return kMaxSlot + 1 + rng.Below(UINT64_MAX - kMaxSlot); }

bool UsesCommit(MessageType t) {
  return t == MSG_PREPARE || t == MSG_PROMISE || t == MSG_ACCEPT || t == MSG_ACCEPTED;
}

// A field the message's type never sets.
void SetForeignField(Rng& rng, Message& m) {
  const uint64_t v = 1 + rng.Below(1000);
  switch (m.type()) {
    case MSG_ACCEPTED:
      m.set_from_slot(v);
      break;
    case MSG_REJECT:
      m.set_commit(v);
      break;
    case MSG_SNAPSHOT:
      m.set_round_id(v);
      break;
    default:
      m.set_match(v);
      break;
  }
}

// A huge ballot round (the one that, once promised, would lock out every honest leader).
void SetHugeRound(Rng& rng, Message& m) { m.mutable_ballot()->set_round(Huge(rng)); }

void SetAbsurdSlot(Rng& rng, Message& m) {
  if (m.type() == MSG_SNAPSHOT) {
    m.mutable_snapshot()->set_slot(rng.Below(2) == 0 ? 0 : Huge(rng));
  } else if (m.type() == MSG_ACCEPT && m.entries_size() > 0) {
    m.mutable_entries(int(rng.Below(m.entries_size())))->set_slot(Huge(rng));
  } else if (m.type() == MSG_PREPARE && rng.Below(2) == 0) {
    m.set_from_slot(0);
  } else if (UsesCommit(m.type())) {
    m.set_commit(Huge(rng));
  } else {
    SetHugeRound(rng, m);  // MSG_REJECT carries no slot
  }
}

void SetOtherBallotNode(Rng& rng, Message& m) {
  // PREPARE and ACCEPT carry the sender's own ballot; PROMISE echoes the receiver's.
  const NodeId owner = m.type() == MSG_PROMISE ? m.to() : m.from();
  if (m.type() == MSG_PREPARE || m.type() == MSG_ACCEPT || m.type() == MSG_PROMISE) {
    m.mutable_ballot()->set_node(owner + 1 + rng.Below(5));
    if (m.ballot().round() == 0) m.mutable_ballot()->set_round(1);
  } else {
    SetHugeRound(rng, m);
  }
}

// ACCEPT: entries out of order, or more than one message may carry.
void BreakEntries(Rng& rng, Message& m, const GarbageLimits& limits) {
  if (m.type() != MSG_ACCEPT) return SetForeignField(rng, m);
  if (m.entries_size() >= 2 && rng.Below(2) == 0) {
    m.mutable_entries()->SwapElements(0, 1);
    return;
  }
  const Slot first = m.entries_size() > 0 ? m.entries(0).slot() : m.commit() + 1;
  m.clear_entries();
  for (size_t k = 0; k <= limits.max_entries_per_message; ++k) {
    Entry* e = m.add_entries();
    e->set_slot(first + k);
    *e->mutable_ballot() = m.ballot();
  }
}

void AddBadEntry(Rng& rng, Message& m) {
  Entry* e = m.add_entries();
  e->set_slot(1 + rng.Below(1000));
  *e->mutable_ballot() = m.ballot();
  if (rng.Below(2) == 0) {
    e->set_type(static_cast<EntryType>(3 + rng.Below(100)));
  } else {
    e->set_type(ENTRY_CONFIG);  // a membership without voters
    e->mutable_membership()->add_learners(1);
  }
  // PROMISE entries must be in slot order at from_slot or later: put it last, past them.
  if (m.entries_size() >= 2) {
    e->set_slot(m.entries(m.entries_size() - 2).slot() + 1);
  } else if (m.from_slot() > 0) {
    e->set_slot(m.from_slot());
  }
}

Message RandomMessage(Rng& rng, NodeId to) {
  Message m;
  m.set_type(static_cast<MessageType>(rng.Below(8)));
  m.set_from(NonMemberId(rng));
  m.set_to(to);
  m.mutable_ballot()->set_round(rng.Below(2) == 0 ? 1 + rng.Below(100) : kMaxRound);
  m.mutable_ballot()->set_node(rng.Below(2) == 0 ? m.from() : to);
  m.set_commit(rng.Below(4) == 0 ? 0 : rng.Below(1000));
  m.set_from_slot(m.commit() + 1);
  const int n = int(rng.Below(4));
  for (int k = 0; k < n; ++k) {
    Entry* e = m.add_entries();
    e->set_slot(m.commit() + 1 + uint64_t(k));
    *e->mutable_ballot() = m.ballot();
    e->set_type(ENTRY_COMMANDS);
    e->add_commands("garbage");
  }
  if (m.type() == MSG_SNAPSHOT) {
    m.mutable_snapshot()->set_slot(m.commit() + 1);
    m.mutable_snapshot()->mutable_config()->mutable_current()->add_voters(m.from());
  }
  return m;
}

}  // namespace

NodeId NonMemberId(Rng& rng) {
  return rng.Below(4) == 0 ? 0 : (uint64_t{1} << 32) + rng.Below(UINT64_MAX >> 1);
}

Garbage MakeGarbage(Rng& rng, const Message& real, const GarbageLimits& limits) {
  Garbage g;
  g.msg = real;
  Message& m = g.msg;
  switch (rng.Below(11)) {
    case 0:
      // A faithful replay (a snapshot needs its data, which only the network carries).
      if (m.type() != MSG_SNAPSHOT) {
        g.must_drop = false;
        g.what = "replay";
        break;
      }
      [[fallthrough]];
    case 1:
      // The message as a non-member would send it: its own ballot, a huge round.
      m.set_from(NonMemberId(rng));
      m.mutable_ballot()->set_node(m.from());
      m.mutable_ballot()->set_round(kMaxRound - rng.Below(1000));
      g.what = "non_member";
      g.forged_sender = true;
      break;
    case 2:
      m.set_to(m.to() + 1 + rng.Below(1000));
      g.what = "wrong_recipient";
      break;
    case 3:
      m.set_from(m.to());
      g.what = "from_self";
      break;
    case 4:
      m.set_type(static_cast<MessageType>(7 + rng.Below(1000)));
      g.what = "unknown_type";
      break;
    case 5:
      SetHugeRound(rng, m);
      g.what = "huge_ballot";
      break;
    case 6:
      SetAbsurdSlot(rng, m);
      g.what = "absurd_slot";
      break;
    case 7:
      SetForeignField(rng, m);
      g.what = "foreign_field";
      break;
    case 8:
      SetOtherBallotNode(rng, m);
      g.what = "not_its_ballot";
      break;
    case 9:
      if (rng.Below(2) == 0) {
        BreakEntries(rng, m, limits);
        g.what = "bad_entries";
      } else {
        AddBadEntry(rng, m);
        g.what = "bad_entry";
      }
      break;
    default:
      m = RandomMessage(rng, real.to());
      g.what = "random";
      g.forged_sender = true;
      break;
  }
  return g;
}

}  // namespace penncloud::paxos::sim
