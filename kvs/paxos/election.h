// Phase 1 of a candidate: promises collected for one ballot, for every slot >= from_slot,
// and the value to re-propose in each slot: the one accepted in the highest ballot among the
// promises (any value possibly chosen is that one), or a no-op where none was accepted.
#pragma once

#include <deque>
#include <map>
#include <vector>

#include "kvs/paxos/node.h"

namespace penncloud::paxos {

class Election {
 public:
  void Start(const Ballot& ballot, Slot from_slot);

  const Ballot& ballot() const { return ballot_; }
  Slot from_slot() const { return from_slot_; }

  // Records `from`'s promise: its commit index and its accepted entries at >= from_slot.
  // Returns false if `from` had already promised.
  bool AddPromise(NodeId from, Slot commit, std::vector<EntryPtr> entries);
  bool HasPromised(NodeId id) const;
  const std::vector<NodeId>& promisers() const { return promisers_; }

  // The highest slot any promise accepted (from_slot - 1 if none).
  Slot max_slot() const { return from_slot_ + best_.size() - 1; }
  // The highest commit index among the promises.
  Slot max_commit() const { return max_commit_; }
  // The highest-ballot entry accepted at `slot`, or null.
  const EntryPtr& Best(Slot slot) const;
  // The membership changes among the recovered values, by slot.
  const std::map<Slot, const Membership*>& recovered_configs() const { return configs_; }

 private:
  Ballot ballot_;
  Slot from_slot_ = 1;
  Slot max_commit_ = 0;
  std::vector<NodeId> promisers_;
  std::deque<EntryPtr> best_;  // index: slot - from_slot_
  std::map<Slot, const Membership*> configs_;
};

}  // namespace penncloud::paxos
