// The simulated network between replicas and callers: per-seed loss, duplication and delay
// rates (faults apply only while `faults_on`), long delays that reorder, and the links a
// partition cuts (replica index pairs, one way each).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kvs/paxos/rng.h"

namespace penncloud::paxos::sim {

class Network {
 public:
  bool faults_on = false;
  double loss = 0, dup = 0, long_delay = 0;
  int64_t max_delay = 5;  // time units

  // How long one message travels.
  int64_t Delay(Rng& rng);
  // Whether a request or a reply is lost on its way.
  bool Lost(Rng& rng);
  // Whether a peer message from replica `from` to replica `to` is lost or cut.
  bool Drops(Rng& rng, int from, int to);
  // How many copies of a peer message arrive (1, or 2 when duplicated).
  int Copies(Rng& rng);

  // Cuts links among `nodes` (replica indices) instead of the current partition: split
  // them in two, isolate one (the last of them that `leads`, for kind 3), or cut random
  // links one way. Returns what it did, naming the isolated replica by its position.
  struct Cut {
    std::string what;   // "split", "isolate", "asymmetric"
    int isolated = -1;  // position in `nodes`, for "isolate"
  };
  Cut Partition(Rng& rng, const std::vector<int>& nodes, const std::vector<bool>& leads);
  // Numbers the partition just made; the heal event carries the number.
  uint64_t partition() const { return partition_; }
  void HealPartition() { blocked_.clear(); }

 private:
  std::set<std::pair<int, int>> blocked_;
  uint64_t partition_ = 0;
};

}  // namespace penncloud::paxos::sim
