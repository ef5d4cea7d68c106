// The simulators' random draws. Every choice of a run comes from one seeded Rng, so the
// order of the draws is part of what a seed means: a change that adds, drops or reorders a
// draw replays every seed differently.
#pragma once

#include <cstdint>

#include "kvs/paxos/rng.h"

namespace penncloud::paxos::sim {

// True with probability p (in steps of one millionth); draws nothing when p <= 0.
inline bool Chance(Rng& rng, double p) { return p > 0 && double(rng.Below(1000000)) < p * 1e6; }

// Uniform in [lo, hi].
inline int64_t Between(Rng& rng, int64_t lo, int64_t hi) {
  return lo + int64_t(rng.Below(uint64_t(hi - lo + 1)));
}

}  // namespace penncloud::paxos::sim
