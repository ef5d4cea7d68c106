#include "kvs/paxos/sim/network.h"

#include "kvs/paxos/sim/draws.h"
#include "kvs/paxos/sim/event_queue.h"

namespace penncloud::paxos::sim {

int64_t Network::Delay(Rng& rng) {
  if (faults_on && Chance(rng, long_delay)) return Between(rng, kTick, 40 * kTick);
  return Between(rng, 1, max_delay);
}

bool Network::Lost(Rng& rng) { return faults_on && Chance(rng, loss); }

bool Network::Drops(Rng& rng, int from, int to) {
  return faults_on && (Chance(rng, loss) || blocked_.count({from, to}) > 0);
}

int Network::Copies(Rng& rng) { return faults_on && Chance(rng, dup) ? 2 : 1; }

Network::Cut Network::Partition(Rng& rng, const std::vector<int>& nodes,
                                const std::vector<bool>& leads) {
  blocked_.clear();
  ++partition_;
  const int n = int(nodes.size());
  const uint64_t kind = rng.Below(4);
  Cut cut;
  if (kind == 0) {
    std::vector<int> side(n);
    for (int a = 0; a < n; ++a) side[a] = int(rng.Below(2));
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b)
        if (side[a] != side[b]) blocked_.insert({nodes[a], nodes[b]});
    cut.what = "split";
  } else if (kind == 1 || kind == 3) {
    int x = int(rng.Below(n));
    for (int k = 0; kind == 3 && k < n; ++k) {
      if (leads[k]) x = k;
    }
    for (int b = 0; b < n; ++b) {
      if (b != x) blocked_.insert({nodes[x], nodes[b]}), blocked_.insert({nodes[b], nodes[x]});
    }
    cut.what = "isolate";
    cut.isolated = x;
  } else {
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b)
        if (a != b && rng.Below(3) == 0) blocked_.insert({nodes[a], nodes[b]});
    cut.what = "asymmetric";
  }
  return cut;
}

}  // namespace penncloud::paxos::sim
