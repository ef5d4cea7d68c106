#include "kvs/paxos/sim/slot_ledger.h"

#include <algorithm>

namespace penncloud::paxos::sim {

std::string Fingerprint(const Entry& e) {
  std::string f = std::to_string(int(e.type()));
  f += ':';
  for (const std::string& c : e.commands()) {
    f += c;
    f += '\x1e';
  }
  for (NodeId v : e.membership().voters()) f += "v" + std::to_string(v);
  for (NodeId v : e.membership().learners()) f += "l" + std::to_string(v);
  return f;
}

void SlotLedger::Reserve(Slot slot) {
  if (chosen_.size() <= slot) {
    chosen_.resize(slot + 1);
    digest_.resize(slot + 1, 0);
  }
}

SlotLedger::Value SlotLedger::Applied(Slot slot, const std::string& fingerprint) {
  Reserve(slot);
  if (chosen_[slot].empty()) {
    chosen_[slot] = fingerprint;
    highest_ = std::max(highest_, slot);
    return Value::kFirst;
  }
  return chosen_[slot] == fingerprint ? Value::kSame : Value::kDifferent;
}

bool SlotLedger::StateAfter(Slot slot, uint64_t digest) {
  Reserve(slot);
  const uint64_t d = digest | 1;
  if (digest_[slot] == 0) {
    digest_[slot] = d;
    return true;
  }
  return digest_[slot] == d;
}

bool SlotLedger::Matches(Slot slot, uint64_t digest) const {
  return slot >= digest_.size() || digest_[slot] == 0 || digest_[slot] == (digest | 1);
}

}  // namespace penncloud::paxos::sim
