// A tiny HTTP server for scrapes: GET /metrics answers the registry in Prometheus text
// format; anything else is 404 (405 for other methods). It serves on its own port
// (`--metrics_listen`), never on a port users reach, so it cannot leak user data and a
// flood of user traffic cannot starve the scrapes. One thread is plenty for a scraper every
// few seconds. It accepts through http::Listener like every other HTTP server; its names
// stay in namespace metrics, beside the registry it serves.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/metrics.h"

namespace penncloud::metrics {

class MetricsServer {
 public:
  // `listen` is host:port (port 0: any free port). Starts serving at once.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                              Registry* registry = &Default());
  ~MetricsServer();  // stops and joins the thread
  uint16_t port() const;

 private:
  class Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Starts a MetricsServer at the --metrics_listen flag's address, which every PennCloud
// binary has; "" (the default) starts none. Logs the bound address; a bad or busy address
// is an error the caller should exit on.
absl::StatusOr<std::unique_ptr<MetricsServer>> StartFromFlag();

}  // namespace penncloud::metrics
