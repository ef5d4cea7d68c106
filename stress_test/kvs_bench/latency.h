// Latency samples and their percentiles. Every sample is kept (a 20 s run at tens of
// thousands of ops/s is a few MB), so percentiles are exact rather than bucketed.
#pragma once

#include <cstdint>
#include <vector>

namespace penncloud::bench {

struct LatencySummary {
  uint64_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

// Summarizes latencies given in microseconds (the vector is sorted in place). Percentiles
// use the nearest-rank definition: p99 is the smallest sample >= 99% of all samples.
LatencySummary Summarize(std::vector<uint32_t>& micros);

}  // namespace penncloud::bench
