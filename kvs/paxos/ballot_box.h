// The leader's quorum counting for phase 2: for each slot in flight, which peers accepted
// it in the leader's ballot (a bit per entry of the leader's peer table). A slot is chosen
// when the voters among them form a quorum of the membership governing it; the commit index
// is the end of the chosen prefix.
#pragma once

#include <bit>
#include <cstdint>
#include <deque>

#include "kvs/paxos/node.h"

namespace penncloud::paxos {

class BallotBox {
 public:
  // Tracks slots from `first` on (the slot after the commit index).
  void Reset(Slot first) {
    first_ = first;
    acks_.clear();
  }
  Slot first() const { return first_; }

  // Peer `bit` accepted every slot in [lo, hi].
  void Ack(Slot lo, Slot hi, int bit) {
    if (lo < first_) lo = first_;
    if (hi < lo) return;
    if (hi - first_ >= acks_.size()) acks_.resize(hi - first_ + 1, 0);
    const uint64_t b = uint64_t{1} << bit;
    for (Slot s = lo; s <= hi; ++s) acks_[s - first_] |= b;
  }

  // Pops the chosen prefix; `chosen(slot, mask)` says whether `mask` is a quorum for `slot`.
  // Returns the new commit index (first() - 1 after the call).
  template <typename ChosenFn>
  Slot Advance(ChosenFn chosen) {
    while (!acks_.empty() && chosen(first_, acks_.front())) {
      acks_.pop_front();
      ++first_;
    }
    return first_ - 1;
  }

  // Moves the start forward (the commit index jumped), forgetting earlier slots.
  void SkipTo(Slot first) {
    while (first_ < first) {
      if (!acks_.empty()) acks_.pop_front();
      ++first_;
    }
  }

  static int Count(uint64_t mask) { return std::popcount(mask); }

 private:
  Slot first_ = 1;
  std::deque<uint64_t> acks_;
};

}  // namespace penncloud::paxos
