// The simulator's garbage sender: from a real peer message on its way to a replica, it
// makes a bad one for the same replica: an exact replay, a replay from a sender that was
// never a member, or a replay with one field mangled so that it is malformed or out of range
// (a flipped recipient or type, a huge ballot or slot, a field of another type, entries out
// of order or too many, an entry of unknown type), or a random message from a non-member.
//
// What it does not make: a well-formed message that names a member as its sender but says
// what that member never said. That is a forgery only authentication stops (the server
// checks that `from` is the certificate's identity; TLS keeps bytes from being changed on
// the way), and against which no consensus protocol is safe. So every message it makes is
// either a faithful replay, which the protocol must tolerate, or one the core must drop.
#pragma once

#include <string>

#include "kvs/paxos/node.h"
#include "kvs/paxos/rng.h"

namespace penncloud::paxos::sim {

struct Garbage {
  Message msg;
  bool must_drop = true;  // false only for an exact replay
  // From an id no replica has. The core takes such a message when it shows a sender that
  // knows more of the log (a member added there, for all it can tell): only the server's
  // check of the peer's certificate stops it, which the harness plays.
  bool forged_sender = false;
  std::string what;  // the kind of garbage, for traces and counts
};

// The limits the receiving group's cores run with (their Config).
struct GarbageLimits {
  size_t max_entries_per_message = 8;
  size_t max_batch_commands = 8;
};

// A bad message for `real.to()`, made from `real` (a message a core sent). Draws from rng.
Garbage MakeGarbage(Rng& rng, const Message& real, const GarbageLimits& limits);

// An id no replica of any simulated group has: 0, or at least 2^32.
NodeId NonMemberId(Rng& rng);

}  // namespace penncloud::paxos::sim
