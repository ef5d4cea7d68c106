// What one replica group applied, slot by slot, so that every replica's apply can be held
// against the others': the value applied in each slot (a fingerprint of the entry) and the
// state after it (a digest of the state machine).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kvs/paxos/node.h"

namespace penncloud::paxos::sim {

// The entry's value as a string: equal for equal values.
std::string Fingerprint(const Entry& e);

class SlotLedger {
 public:
  enum class Value { kFirst, kSame, kDifferent };
  // Records that some replica applied `fingerprint` in `slot`: the first to apply it, one
  // that applied the same value, or one that applied another.
  Value Applied(Slot slot, const std::string& fingerprint);
  // Records the state digest after `slot`; false if another replica's differed.
  bool StateAfter(Slot slot, uint64_t digest);
  // False if a state applied up to `slot` is known and differs from `digest` (a snapshot
  // installed at `slot`).
  bool Matches(Slot slot, uint64_t digest) const;
  // The highest slot any replica applied.
  Slot highest() const { return highest_; }

 private:
  void Reserve(Slot slot);

  std::vector<std::string> chosen_;  // slot -> fingerprint of the value applied there
  std::vector<uint64_t> digest_;     // slot -> state digest after it (| 1: never 0)
  Slot highest_ = 0;
};

}  // namespace penncloud::paxos::sim
