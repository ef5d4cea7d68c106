#include "kvs/paxos/message_check.h"

namespace penncloud::paxos {
namespace {

bool ValidRound(const Ballot& b) { return b.round() >= 1 && b.round() <= kMaxRound; }

// Fields only some types use: an honest sender leaves the others at zero (Core::NewMessage
// starts from an empty message and each handler sets only its own fields).
struct Uses {
  bool from_slot = false, entries = false, commit = false, match = false, acked = false,
       round_id = false, refused = false, snapshot = false;
};

Uses FieldsOf(MessageType type) {
  Uses u;
  switch (type) {
    case MSG_PREPARE:
      u.from_slot = u.commit = true;
      break;
    case MSG_PROMISE:
      u.from_slot = u.entries = u.commit = u.refused = true;
      break;
    case MSG_ACCEPT:
      u.entries = u.commit = u.round_id = true;
      break;
    case MSG_ACCEPTED:
      u.commit = u.match = u.acked = u.round_id = true;
      break;
    case MSG_SNAPSHOT:
      u.snapshot = true;
      break;
    default:  // MSG_REJECT: the ballot alone
      break;
  }
  return u;
}

bool OnlyItsFields(const Message& m) {
  const Uses u = FieldsOf(m.type());
  return (u.from_slot || m.from_slot() == 0) && (u.entries || m.entries_size() == 0) &&
         (u.commit || m.commit() == 0) && (u.match || m.match() == 0) &&
         (u.acked || (m.acked_lo() == 0 && m.acked_hi() == 0)) &&
         (u.round_id || m.round_id() == 0) && (u.refused || !m.refused()) &&
         (u.snapshot || !m.has_snapshot());
}

DropReason CheckMembership(const Membership& ms) {
  if (ms.voters_size() == 0) return DropReason::kBadEntry;
  if (ms.voters_size() + ms.learners_size() > kMaxMembers) return DropReason::kTooLarge;
  return DropReason::kNone;
}

}  // namespace

Slot FirstSlotConcerned(const Message& m, Slot commit) {
  switch (m.type()) {
    case MSG_PREPARE:
      return m.from_slot();
    case MSG_ACCEPT:
      return m.commit() + 1;
    case MSG_SNAPSHOT:
      return m.snapshot().slot() + 1;
    default:
      return commit + 1;
  }
}

bool JudgesMembership(const Message& m, Slot commit, Slot snapshot_slot) {
  const Slot first = FirstSlotConcerned(m, commit);
  return first > snapshot_slot && first <= commit + 1;
}

DropReason CheckEntry(const Entry& e, const MessageLimits& limits) {
  if (e.slot() == 0 || e.slot() > kMaxSlot) return DropReason::kBadSlot;
  if (e.ballot().round() > kMaxRound) return DropReason::kBadBallot;
  if (size_t(e.commands_size()) > limits.max_batch_commands) return DropReason::kTooLarge;
  switch (e.type()) {
    case ENTRY_NOOP:
    case ENTRY_COMMANDS:
      return DropReason::kNone;
    case ENTRY_CONFIG:
      return CheckMembership(e.membership());
    default:
      return DropReason::kBadEntry;
  }
}

DropReason CheckMessage(const Message& m, const MessageLimits& limits) {
  if (m.to() != limits.self) return DropReason::kWrongRecipient;
  if (m.from() == limits.self) return DropReason::kFromSelf;
  if (m.type() < MSG_PREPARE || m.type() > MSG_REJECT) return DropReason::kUnknownType;
  if (!OnlyItsFields(m)) return DropReason::kInconsistent;

  const Ballot& b = m.ballot();
  if (b.round() > kMaxRound) return DropReason::kBadBallot;
  if (m.commit() > kMaxSlot || m.from_slot() > kMaxSlot || m.match() > kMaxSlot ||
      m.acked_hi() > kMaxSlot) {
    return DropReason::kBadSlot;
  }
  for (const Entry& e : m.entries()) {
    if (DropReason r = CheckEntry(e, limits); r != DropReason::kNone) return r;
  }

  switch (m.type()) {
    case MSG_PREPARE:
      // A candidate's own ballot, for the slots after its commit index.
      if (!ValidRound(b) || b.node() != m.from()) return DropReason::kBadBallot;
      if (m.from_slot() == 0) return DropReason::kBadSlot;
      // The candidate asks for every slot after its commit index.
      if (m.from_slot() != m.commit() + 1) return DropReason::kInconsistent;
      return DropReason::kNone;

    case MSG_PROMISE: {
      // Answers our PREPARE: it echoes our ballot.
      if (!ValidRound(b) || b.node() != limits.self) return DropReason::kBadBallot;
      if (m.refused()) {
        // A refusal says only how far the acceptor's commit index is.
        if (m.from_slot() != 0 || m.entries_size() != 0) return DropReason::kInconsistent;
        return DropReason::kNone;
      }
      if (m.from_slot() == 0) return DropReason::kBadSlot;
      if (m.commit() >= m.from_slot() + limits.max_promise_lag) return DropReason::kInconsistent;
      Slot prev = 0;
      for (const Entry& e : m.entries()) {
        // Everything accepted at from_slot or later, in slot order (holes allowed).
        if (e.slot() < m.from_slot() || e.slot() <= prev) return DropReason::kInconsistent;
        if (e.slot() > m.from_slot() + limits.max_promise_lag + limits.max_open_slots) {
          return DropReason::kBadSlot;
        }
        prev = e.slot();
      }
      return DropReason::kNone;
    }

    case MSG_ACCEPT: {
      if (!ValidRound(b) || b.node() != m.from()) return DropReason::kBadBallot;
      if (size_t(m.entries_size()) > limits.max_entries_per_message) return DropReason::kTooLarge;
      // Contiguous slots, in order (Core::SendEntries).
      for (int i = 1; i < m.entries_size(); ++i) {
        if (m.entries(i).slot() != m.entries(i - 1).slot() + 1) return DropReason::kInconsistent;
      }
      return DropReason::kNone;
    }

    case MSG_ACCEPTED:
      // Either a heartbeat reply (0..0) or the range of slots it acknowledges.
      if ((m.acked_lo() == 0) != (m.acked_hi() == 0) || m.acked_lo() > m.acked_hi()) {
        return DropReason::kInconsistent;
      }
      return DropReason::kNone;

    case MSG_SNAPSHOT: {
      // From the leader (its ballot) or, as catch-up for a candidate that lacks compacted
      // slots, from any replica with the zero ballot (it claims no leadership).
      const bool from_leader = ValidRound(b) && b.node() == m.from();
      const bool catch_up = b.round() == 0 && b.node() == 0;
      if (!from_leader && !catch_up) return DropReason::kBadBallot;
      const SnapshotMeta& meta = m.snapshot();
      if (meta.slot() == 0 || meta.slot() > kMaxSlot) return DropReason::kBadSlot;
      const ConfigState& cs = meta.config();
      if (DropReason r = CheckMembership(cs.current()); r != DropReason::kNone) return r;
      if (cs.next_from() != 0) {
        if (cs.next_from() <= meta.slot() || cs.next_from() > kMaxSlot) {
          return DropReason::kBadSlot;
        }
        if (DropReason r = CheckMembership(cs.next()); r != DropReason::kNone) return r;
      }
      return DropReason::kNone;
    }

    default:  // MSG_REJECT: the higher ballot the sender promised
      if (!ValidRound(b)) return DropReason::kBadBallot;
      return DropReason::kNone;
  }
}

}  // namespace penncloud::paxos
