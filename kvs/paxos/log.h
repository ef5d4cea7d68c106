// The acceptor's log in memory: the accepted entry of every slot after the last snapshot,
// indexed by slot. Slots may be holes (nothing accepted yet): Multi-Paxos accepts slots
// independently, so a reordered message may fill slot 7 before slot 6.
#pragma once

#include <deque>

#include "kvs/paxos/node.h"

namespace penncloud::paxos {

class AcceptorLog {
 public:
  explicit AcceptorLog(Slot first_slot = 1) : first_(first_slot) {}

  // The first slot kept (the snapshot's slot + 1).
  Slot first_slot() const { return first_; }
  // The highest slot that holds or held anything; first_slot() - 1 when empty.
  Slot last_slot() const { return first_ + slots_.size() - 1; }

  // The entry accepted at `slot`, or null (hole, or outside the log).
  const EntryPtr& Get(Slot slot) const {
    static const EntryPtr kNone;
    if (slot < first_ || slot - first_ >= slots_.size()) return kNone;
    return slots_[slot - first_];
  }

  // Stores (or replaces) the entry of its slot; the slot must be >= first_slot().
  void Put(EntryPtr entry);

  // Forgets every slot <= `slot` (covered by a snapshot); first_slot() becomes slot + 1.
  void DropThrough(Slot slot);

 private:
  Slot first_;
  std::deque<EntryPtr> slots_;
};

}  // namespace penncloud::paxos
