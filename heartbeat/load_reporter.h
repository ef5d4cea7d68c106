// Turns a server's running totals into the per-interval Load a heartbeat carries: requests
// per second and p99 latency since the previous report.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/metrics.h"
#include "proto/coordinator.pb.h"

namespace penncloud::heartbeat {

// What a server has counted since it started (the reporter takes differences).
struct LoadTotals {
  int64_t in_flight = 0;
  int64_t connections = 0;
  int64_t requests_total = 0;
  metrics::HistogramCell::Snapshot latency;  // in metrics::LatencyBuckets()
};

class LoadReporter {
 public:
  coordinator::pb::Load Report(const LoadTotals& now);

 private:
  LoadTotals last_;
  std::chrono::steady_clock::time_point last_at_ = std::chrono::steady_clock::now();
};

}  // namespace penncloud::heartbeat
