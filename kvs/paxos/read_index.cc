#include "kvs/paxos/read_index.h"

namespace penncloud::paxos {

void ReadTracker::Reset(int64_t now) {
  round_ = 0;
  confirmed_ = 0;
  floor_ = 0;
  confirmed_sent_tick_ = now;
  sent_.clear();
  reads_.clear();
}

uint64_t ReadTracker::NewRound(int64_t now) {
  ++round_;
  sent_.emplace_back(round_, now);
  return round_;
}

void ReadTracker::Confirm(uint64_t r) {
  if (r <= confirmed_) return;
  confirmed_ = r;
  while (!sent_.empty() && sent_.front().first <= r) {
    confirmed_sent_tick_ = sent_.front().second;
    sent_.pop_front();
  }
}

void ReadTracker::Invalidate() {
  floor_ = round_;
  for (Pending& p : reads_) p.need_round = round_ + 1;
}

void ReadTracker::Add(uint64_t id, Slot index, uint64_t need_round) {
  reads_.push_back(Pending{id, index, need_round});
}

void ReadTracker::Release(Slot applied, std::vector<ReadState>* out) {
  while (!reads_.empty() && reads_.front().need_round <= confirmed_ &&
         reads_.front().index <= applied) {
    out->push_back(ReadState{reads_.front().id, reads_.front().index});
    reads_.pop_front();
  }
}

void ReadTracker::FailAll(std::vector<uint64_t>* out) {
  for (const Pending& p : reads_) out->push_back(p.id);
  reads_.clear();
}

}  // namespace penncloud::paxos
