#include "kvs/paxos/election.h"

#include <algorithm>

#include "kvs/paxos/ballot.h"

namespace penncloud::paxos {

void Election::Start(const Ballot& ballot, Slot from_slot) {
  ballot_ = ballot;
  from_slot_ = from_slot;
  max_commit_ = 0;
  promisers_.clear();
  best_.clear();
  configs_.clear();
}

bool Election::HasPromised(NodeId id) const {
  return std::find(promisers_.begin(), promisers_.end(), id) != promisers_.end();
}

const EntryPtr& Election::Best(Slot slot) const {
  static const EntryPtr kNone;
  if (slot < from_slot_ || slot - from_slot_ >= best_.size()) return kNone;
  return best_[slot - from_slot_];
}

bool Election::AddPromise(NodeId from, Slot commit, std::vector<EntryPtr> entries) {
  if (HasPromised(from)) return false;
  promisers_.push_back(from);
  max_commit_ = std::max(max_commit_, commit);
  for (EntryPtr& e : entries) {
    const Slot slot = e->slot();
    if (slot < from_slot_) continue;
    const size_t pos = slot - from_slot_;
    if (pos >= best_.size()) best_.resize(pos + 1);
    EntryPtr& cur = best_[pos];
    if (cur && cur->ballot() >= e->ballot()) continue;
    if (e->type() == ENTRY_CONFIG) {
      configs_[slot] = &e->membership();
    } else if (cur && cur->type() == ENTRY_CONFIG) {
      configs_.erase(slot);
    }
    cur = std::move(e);
  }
  return true;
}

}  // namespace penncloud::paxos
