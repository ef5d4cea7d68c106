// Ballots order leaders: (round, node), compared lexicographically. A zero ballot (round 0)
// is below every ballot a replica uses.
#pragma once

#include <tuple>

#include "proto/paxos.pb.h"

namespace penncloud::paxos {

inline auto BallotKey(const Ballot& b) { return std::make_tuple(b.round(), b.node()); }

inline bool operator==(const Ballot& a, const Ballot& b) { return BallotKey(a) == BallotKey(b); }
inline bool operator!=(const Ballot& a, const Ballot& b) { return !(a == b); }
inline bool operator<(const Ballot& a, const Ballot& b) { return BallotKey(a) < BallotKey(b); }
inline bool operator>(const Ballot& a, const Ballot& b) { return b < a; }
inline bool operator<=(const Ballot& a, const Ballot& b) { return !(b < a); }
inline bool operator>=(const Ballot& a, const Ballot& b) { return !(a < b); }

inline Ballot MakeBallot(uint64_t round, uint64_t node) {
  Ballot b;
  b.set_round(round);
  b.set_node(node);
  return b;
}

}  // namespace penncloud::paxos
