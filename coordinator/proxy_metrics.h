// The proxy's metrics on /metrics: requests through :8000 by kind ("proxied" to a
// frontend, "admin" and "static" served here) and status, latency, failures and abandoned
// exchanges. The per-route view is each frontend's own.
#pragma once

#include "common/metrics.h"

namespace penncloud::coordinator {

struct ProxyMetrics {
  metrics::CounterFamily& requests = metrics::Default().Counter(
      "coordinator_http_requests_total", "HTTP requests answered at :8000, by kind and status",
      {"kind", "status"});
  metrics::HistogramFamily& latency = metrics::Default().Histogram(
      "coordinator_http_request_duration_seconds",
      "HTTP request latency at :8000 (header read to response written), by kind", {"kind"});
  // Looked up once: finding a child builds a label vector and takes the family's lock.
  metrics::HistogramCell& proxied_latency = latency.With({"proxied"});
  metrics::HistogramCell& admin_latency = latency.With({"admin"});
  metrics::HistogramCell& static_latency = latency.With({"static"});
  metrics::CounterFamily& upstream_failures = metrics::Default().Counter(
      "coordinator_upstream_failures_total", "failed exchanges with a frontend (retried or 502)");
  metrics::GaugeFamily& in_flight = metrics::Default().Gauge("coordinator_http_in_flight_requests",
                                                             "requests at :8000 not yet answered");
  metrics::CounterFamily& abandoned = metrics::Default().Counter(
      "coordinator_upstream_abandoned_total",
      "exchanges ended because their frontend was marked down while they waited on it");
};

ProxyMetrics& Metrics();

}  // namespace penncloud::coordinator
