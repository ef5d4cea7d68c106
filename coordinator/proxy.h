// The HTTP front door at :8000 (and :8443): one origin for the browser, spreading requests
// over the healthy frontends and hiding their failures. The parts:
// - http/listener.h accepts and spreads connections over the I/O threads;
// - downstream_session.h is one client connection: the edge rules, the console's own
//   requests, and the exchanges with frontends (upstream_relay.cc);
// - balancer.h picks the frontend, upstream_pool.h keeps idle connections to each;
// - retry_policy.h decides whether a failed exchange is tried on another frontend.
//
// - Streaming: bodies larger than `buffer_limit` (uploads) and every response body are
//   relayed piece by piece, so memory stays flat whatever the size. A frontend's early
//   answer to an upload (a 413 by length) reaches the client. Server-Sent Events
//   (text/event-stream) pass unbuffered and without the upstream read timeout.
// - Frozen frontends: requests waiting on a frontend that is marked down (missed
//   heartbeats) are ended within a sweep, then retried or answered 502, instead of
//   waiting for the upstream timeout.
// - Keep-alive both ways; idle upstream connections are pooled per frontend.
// - Paths under /admin and /api/admin/ never leave the coordinator: `local` serves them.
// - The web app's pages and assets (`edge`, if set) are answered here from files kept in
//   memory, as a caching reverse proxy would: a page costs no hop to a frontend, and the
//   pages load while every frontend is down. A path the edge has no file for goes on to a
//   frontend, whose routes come first there.
// - Request ids: a client's X-Request-Id (if short and plain) or a fresh one goes to the
//   frontend and back to the client, so one id names the request in every tier's logs.
// - HTTPS: with `tls` set, a second listener on `https_port` serves the same site over TLS;
//   its answers carry HSTS. Every request to a frontend carries X-Forwarded-Proto (http or
//   https), set here and never taken from the client, so frontends mark cookies Secure
//   exactly when the browser's connection is encrypted. With `redirect_to_https` (a
//   public deployment) the plain listener answers every request with a redirect there.
// - Limits per client address (client_limits.h): connections, login guesses, sign-ups.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/client_limits.h"
#include "coordinator/registry.h"
#include "http/head_reader.h"
#include "http/router.h"
#include "http/worker_pool.h"

namespace penncloud::coordinator {

struct ProxyOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8000;
  int io_threads = 2;
  int idle_timeout_s = 60;
  http::HeadOptions head = {};  // a client's request head: the header limit and deadline
  int upstream_timeout_s = 60;  // per upstream read/write
  int connect_timeout_ms = 1000;
  int max_attempts = 3;
  uint64_t buffer_limit = 1 << 20;  // larger request bodies stream (and are not retried)
  size_t max_idle_per_upstream = 512;
  // Exchanges with a frontend that is no longer healthy (heartbeats missed for the
  // registry's down_after, or found unreachable) are ended once their current step has
  // waited stall_ms; each I/O thread checks every sweep_ms.
  int sweep_ms = 200;
  int stall_ms = 1000;
  // HTTPS: serves on https_port when `tls` is set (the context outlives the proxy).
  boost::asio::ssl::context* tls = nullptr;
  uint16_t https_port = 8443;
  bool redirect_to_https = false;  // plain HTTP answers 308 to the https:// URL
  std::string public_host = {};    // the redirects' host; empty: the request's Host
  int hsts_max_age_s = 31536000;   // Strict-Transport-Security on HTTPS answers
  ClientLimitOptions limits = {};
  // Static pages and assets served at the edge (GET and HEAD without a body); nullptr
  // sends everything but the console to the frontends.
  const http::Router* edge = nullptr;
};

class Proxy {
 public:
  Proxy(Registry* registry, const http::Router* local, http::WorkerPool* pool,
        ProxyOptions options);
  ~Proxy();
  // Binds and listens: returns the HTTP port (and, with TLS, sets https_port()).
  absl::StatusOr<uint16_t> Start();
  uint16_t https_port() const;
  void Run();
  void Stop();
  // Stops accepting, answers requests in flight (with Connection: close) for up to
  // `grace_ms`, then stops.
  void Drain(int grace_ms);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace penncloud::coordinator
