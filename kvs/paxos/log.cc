#include "kvs/paxos/log.h"

namespace penncloud::paxos {

void AcceptorLog::Put(EntryPtr entry) {
  const Slot slot = entry->slot();
  if (slot < first_) return;
  const size_t pos = slot - first_;
  if (pos >= slots_.size()) slots_.resize(pos + 1);
  slots_[pos] = std::move(entry);
}

void AcceptorLog::DropThrough(Slot slot) {
  if (slot < first_) return;
  const size_t n = slot - first_ + 1;
  if (n >= slots_.size()) {
    slots_.clear();
  } else {
    slots_.erase(slots_.begin(), slots_.begin() + n);
  }
  first_ = slot + 1;
}

}  // namespace penncloud::paxos
