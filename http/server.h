// An HTTP/1.1 server (Boost.Beast, asynchronous), the one the frontend runs: a listener
// accepts and spreads connections over N I/O threads, each running an io_context of its
// own, and each connection is a self-owning object pinned to one of them (no strand); a
// fresh parser per request, its head read by HeadReader (header limit, head deadline) and
// its body held to the route's limit; the answer's head written by hand
// (response_head.h); timeouts on every read and write; keep-alive. Handlers run on a
// WorkerPool (unless their route is nonblocking, or its fast path answers: router.h), and
// streamed bodies move one piece at a time between the socket and the worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/metrics.h"
#include "http/head_reader.h"
#include "http/router.h"

namespace penncloud::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  int io_threads = 2;
  int workers = 64;
  size_t max_queued = 20000;
  // A head's fields are held to what the coordinator may send on; the whole head must
  // arrive within head.deadline of its first byte.
  HeadOptions head = {.field_limit = kMaxHeaderBytes + kForwardedHeaderBytes};
  int idle_timeout_s = 60;  // keep-alive connections and stalled reads/writes
  // Names the metrics: <name>_http_requests_total, <name>_draining, ... and the server
  // label of http_request_heads_refused_total.
  std::string name = "server";
};

// Load figures the heartbeat reports.
struct LoadStats {
  int64_t in_flight = 0;
  int64_t connections = 0;
  int64_t requests_total = 0;
  // Latency of every request answered so far, in metrics::LatencyBuckets() (two snapshots
  // give the p99 between them).
  metrics::HistogramCell::Snapshot latency;
};

class Server {
 public:
  Server(const Router* router, ServerOptions options);
  ~Server();

  // Binds and listens; returns the bound port.
  absl::StatusOr<uint16_t> Start();
  // Runs the I/O threads until Stop (blocks the caller).
  void Run();
  // Stops accepting, waits up to `grace_ms` for requests in flight (answering each with
  // Connection: close meanwhile), then stops the I/O.
  void Stop(int grace_ms = 5000);

  LoadStats Load() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace penncloud::http
