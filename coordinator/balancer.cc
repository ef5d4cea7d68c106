#include "coordinator/balancer.h"

#include <algorithm>

namespace penncloud::coordinator {

Upstream* PickUpstream(std::span<const Candidate> healthy, std::span<Upstream* const> tried,
                       uint64_t turn) {
  const size_t n = healthy.size();
  if (n == 0) return nullptr;
  const size_t start = turn % n;
  Upstream* best = nullptr;
  int64_t best_score = 0;
  for (size_t i = 0; i < n; ++i) {
    const Candidate& c = healthy[(start + i) % n];
    if (std::find(tried.begin(), tried.end(), c.upstream) != tried.end()) continue;
    int64_t score = c.upstream->active.load(std::memory_order_relaxed) + c.in_flight;
    if (!best || score < best_score) {
      best = c.upstream;
      best_score = score;
    }
  }
  return best;
}

}  // namespace penncloud::coordinator
