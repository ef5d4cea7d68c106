// The test's own HTTP calls into an emulated host (a sign-up, a coordinator's /metrics):
// one exchange on a fresh connection, bounded by a timeout. The users' load is user_sim's.
#pragma once

#include <chrono>
#include <string>

namespace penncloud::testing {

struct ProbeReply {
  int status = 0;  // 0 when the exchange failed below HTTP
  std::string body;
};

ProbeReply HttpProbe(const std::string& host, int port, const std::string& method,
                     const std::string& target, const std::string& body = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(3));

// The sum of every sample of counter `family` at http://host:port/metrics, or -1 when the
// page cannot be read.
double MetricSum(const std::string& host, int port, const std::string& family);

}  // namespace penncloud::testing
