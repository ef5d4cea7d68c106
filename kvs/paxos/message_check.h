// The first thing Step does with a message from a peer: decide whether it is well formed and
// in range, before it can promise, accept or persist anything. A message that fails is
// dropped and counted by reason (DropReason, node.h). docs/paxos.md, "Messages a replica
// drops", gives each rule and why no honest peer ever breaks it.
//
// The checks here look only at the message and at limits that hold for the whole group
// (Config is the same on every replica). Checks that need the receiver's state (is the
// sender a member, does a promise answer the current election) are made by the core.
#pragma once

#include "kvs/paxos/node.h"

namespace penncloud::paxos {

// Far above any round or slot an honest replica reaches (one election or one slot per
// microsecond for 100,000 years stays below 2^62), and far enough below 2^64 that
// `round + 1` and `slot + window + lag` never overflow.
inline constexpr uint64_t kMaxRound = uint64_t{1} << 62;
inline constexpr Slot kMaxSlot = uint64_t{1} << 62;
// The core's peer table has one bit per member in a 64-bit mask.
inline constexpr int kMaxMembers = 64;

struct MessageLimits {
  NodeId self = 0;
  size_t max_entries_per_message = 0;  // an ACCEPT carries at most this many entries
  size_t max_batch_commands = 0;       // an entry holds at most this many commands
  // An acceptor whose commit index is this far past a candidate's from_slot refuses to
  // promise (Core::MaxPromiseLag), so a promise never reports a commit index that far.
  Slot max_promise_lag = 0;
  // How far past its commit index an honest acceptor can hold accepted entries (see
  // Core::MaxOpenSlots): bounds the slots a PROMISE may report.
  Slot max_open_slots = 0;
};

// kNone if the message may be stepped; otherwise why it must be dropped.
DropReason CheckMessage(const Message& m, const MessageLimits& limits);

// The first slot a message is about, which decides whose message it may be: a candidate's
// from_slot, the slot after a leader's commit index or after its snapshot; for replies,
// the slot after the receiver's commit index (`commit`).
Slot FirstSlotConcerned(const Message& m, Slot commit);

// True if a receiver at `commit` with a snapshot at `snapshot_slot` can tell from its own
// log whether the sender is a member: it knows the memberships of the slots after its
// snapshot up to commit + 1 (and the changes announced past it). About compacted slots or
// slots past its commit index it cannot judge: that is left to the server's certificate
// check. docs/paxos.md, "Members".
bool JudgesMembership(const Message& m, Slot commit, Slot snapshot_slot);

// The checks of one entry (ACCEPT and PROMISE carry entries).
DropReason CheckEntry(const Entry& e, const MessageLimits& limits);

}  // namespace penncloud::paxos
