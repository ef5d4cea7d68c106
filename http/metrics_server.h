// A tiny HTTP server for scrapes: GET /metrics answers the registry in Prometheus text
// format; anything else is 404 (405 for other methods). A head is read as on every HTTP
// server (http/head_reader.h): 431 past kMaxScrapeHeaderBytes of fields, 408 if it is not
// whole within the head deadline. It serves on its own port
// (`--metrics_listen`), never on a port users reach, so it cannot leak user data and a
// flood of user traffic cannot starve the scrapes. One thread is plenty for a scraper every
// few seconds. It accepts through http::Listener like every other HTTP server; its names
// stay in namespace metrics, beside the registry it serves.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/metrics.h"

namespace penncloud::metrics {

// A scrape's header fields, counted as http/header_bytes.h counts them.
inline constexpr uint32_t kMaxScrapeHeaderBytes = 8 << 10;

class MetricsServer {
 public:
  // `listen` is host:port (port 0: any free port). Starts serving at once.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, Registry* registry = &Default(),
      std::chrono::milliseconds head_deadline = std::chrono::seconds(10));
  ~MetricsServer();  // stops and joins the thread, cutting scrapes in flight
  uint16_t port() const;

  // The SIGTERM drain: stops accepting (new connections are refused), lets the scrapes in
  // flight (from their first byte) finish until `deadline`, then stops. A binary drains
  // its /metrics last, so that its own drain can be watched there.
  void Drain(std::chrono::steady_clock::time_point deadline);

  int64_t scrapes_in_flight() const;

 private:
  class Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Starts a MetricsServer at the --metrics_listen flag's address, which every PennCloud
// binary has, with --http_header_timeout_ms as its head deadline; "" (the default) starts
// none. Logs the bound address; a bad or busy address
// is an error the caller should exit on.
absl::StatusOr<std::unique_ptr<MetricsServer>> StartFromFlag();

}  // namespace penncloud::metrics
