#include "heartbeat/load_reporter.h"

namespace penncloud::heartbeat {

coordinator::pb::Load LoadReporter::Report(const LoadTotals& now) {
  auto at = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(at - last_at_).count();
  coordinator::pb::Load load;
  load.set_in_flight(now.in_flight);
  load.set_connections(now.connections);
  load.set_requests_per_second(
      secs > 0 ? static_cast<double>(now.requests_total - last_.requests_total) / secs : 0);
  if (!now.latency.counts.empty()) {
    load.set_p99_ms(1000 *
                    metrics::Quantile(metrics::LatencyBuckets(), last_.latency, now.latency, 0.99));
  }
  last_ = now;
  last_at_ = at;
  return load;
}

}  // namespace penncloud::heartbeat
