#include "http/head_reader.h"

#include <algorithm>
#include <string>

#include "absl/flags/flag.h"
#include "common/metrics.h"

ABSL_FLAG(int, http_header_timeout_ms, 10000,
          "how long an HTTP request's head may take to arrive, from its first byte, before the "
          "server answers 408 and closes (every HTTP server of the binary, /metrics included)");

namespace penncloud::http {

std::chrono::milliseconds HeadDeadlineFromFlag() {
  return std::chrono::milliseconds(std::max(1, absl::GetFlag(FLAGS_http_header_timeout_ms)));
}

void CountRefusedHead(std::string_view server, HeadOutcome outcome) {
  static metrics::CounterFamily& refused = metrics::Default().Counter(
      "http_request_heads_refused_total",
      "request heads answered 431 (too large) or 408 (not whole within the deadline), by server",
      {"server", "reason"});
  refused.With({std::string(server), outcome == HeadOutcome::kLate ? "timeout" : "too_large"})
      .Inc();
}

}  // namespace penncloud::http
