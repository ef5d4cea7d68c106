#include "stress_test/kvs_bench/latency.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace penncloud::bench {
namespace {

double Rank(const std::vector<uint32_t>& sorted, double fraction) {
  const size_t n = sorted.size();
  size_t rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(n)));
  rank = std::clamp<size_t>(rank, 1, n);
  return sorted[rank - 1] / 1000.0;
}

}  // namespace

LatencySummary Summarize(std::vector<uint32_t>& micros) {
  LatencySummary s;
  if (micros.empty()) return s;
  std::sort(micros.begin(), micros.end());
  s.count = micros.size();
  const double total = std::accumulate(micros.begin(), micros.end(), 0.0);
  s.mean_ms = total / static_cast<double>(s.count) / 1000.0;
  s.p50_ms = Rank(micros, 0.50);
  s.p99_ms = Rank(micros, 0.99);
  s.p999_ms = Rank(micros, 0.999);
  s.max_ms = micros.back() / 1000.0;
  return s;
}

}  // namespace penncloud::bench
