// Linearizable reads without a log entry. The leader numbers its heartbeat rounds; every
// MSG_ACCEPT carries the current round and every reply echoes it. A round is confirmed once
// a quorum (of every membership in force) answered it or a later round.
//  - Lease: followers refuse to promise a new ballot for election_ticks after they last heard
//    from the leader, so no other leader can exist before
//        sent_tick(confirmed round) + election_ticks
//    (in real time, if ticks measure real time with bounded drift). The leader serves reads
//    at its commit index until that tick minus lease_margin_ticks, minus one more tick:
//    ticks are whole, and a follower's first tick after the heartbeat may come at once.
//  - Read index (fallback): a read waits for a round started after it arrived to be
//    confirmed, then for the state machine to apply up to the commit index it saw.
#pragma once

#include <deque>
#include <vector>

#include "kvs/paxos/node.h"

namespace penncloud::paxos {

class ReadTracker {
 public:
  // A new leadership, at tick `now`.
  void Reset(int64_t now);

  uint64_t round() const { return round_; }
  // Starts a new heartbeat round at tick `now`; returns its id.
  uint64_t NewRound(int64_t now);
  // Round `r` (and every earlier round) is confirmed.
  void Confirm(uint64_t r);
  uint64_t confirmed() const { return confirmed_; }
  // Memberships changed: only rounds started from now on count (for the lease and for
  // reads already waiting).
  void Invalidate();
  bool lease_usable() const { return confirmed_ > floor_; }
  // The tick the latest confirmed round was sent at (the leadership's start if none).
  int64_t confirmed_sent_tick() const { return confirmed_sent_tick_; }

  // A read at `index` that may be served once round `need_round` is confirmed (0: now).
  void Add(uint64_t id, Slot index, uint64_t need_round);
  bool waiting() const { return !reads_.empty(); }
  // Moves the reads that are safe once the state machine applied up to `applied`.
  void Release(Slot applied, std::vector<ReadState>* out);
  void FailAll(std::vector<uint64_t>* out);

 private:
  struct Pending {
    uint64_t id;
    Slot index;
    uint64_t need_round;
  };
  uint64_t round_ = 0;
  uint64_t confirmed_ = 0;
  uint64_t floor_ = 0;
  int64_t confirmed_sent_tick_ = 0;
  std::deque<std::pair<uint64_t, int64_t>> sent_;  // unconfirmed rounds and their ticks
  std::deque<Pending> reads_;                      // index and need_round nondecreasing
};

}  // namespace penncloud::paxos
