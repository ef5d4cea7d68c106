// Method + path -> handler. A handler is a function from Request to Response; the router
// never sees sockets, so routes are tested by calling Dispatch.
//
// Patterns: exact ("/api/me"), with named segments ("/api/mail/{id}" fills
// request.params["id"]), or a prefix ending in "/*" ("/dav/*" matches "/dav" and
// everything under it; request.params["*"] is the rest). Method "*" matches any method
// (WebDAV registers PROPFIND, MKCOL, ... this way or one by one). A GET route also serves
// HEAD; the server drops the body.
//
// Adding a module's routes: write `void RegisterXRoutes(Router&, const ApiContext&)` in
// frontend/x_api.{h,cc}; frontend/routes.cc calls it (see api_context.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http/types.h"

namespace penncloud::http {

using Handler = std::function<Response(Request&)>;

// A route's way to answer without a worker thread (RouteOptions::nonblocking is for
// handlers that never wait at all). It runs on the I/O thread, must not block, and calls
// `respond` exactly once, from any thread, perhaps after it returned: with the answer, or
// with std::nullopt to have the route's Handler answer on the worker pool instead. GET
// /api/me reads its session this way (kvs::Client::StartGet): a worker blocked on the read
// cost three to four context switches per request.
using Respond = std::function<void(std::optional<Response>)>;
using FastPath = std::function<void(Request&, Respond)>;

struct RouteOptions {
  // Deliver the body through Request::body_reader instead of Request::body.
  bool stream_body = false;
  // Largest body accepted (413 beyond). Buffered routes: keep small. Streaming routes may
  // set it very large.
  uint64_t max_body = 1 << 20;
  // The handler never blocks (no KVS, no disk beyond a memory cache): run it on the I/O
  // thread and skip the hop to the worker pool. Static files and /healthz only.
  bool nonblocking = false;
};

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  RouteOptions options;
  FastPath fast_path;  // may be empty
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  // A route tried by `fast_path` first, and answered by `handler` when it declines.
  void AddWithFastPath(std::string method, std::string pattern, FastPath fast_path, Handler handler,
                       RouteOptions options = {});

  // The route serving `request`, with request.params filled; nullptr if none.
  // `*method_allowed` is set false when the path matches but the method does not (405).
  const Route* Match(Request& request, bool* method_allowed) const;

  // Match + call, with 404 / 405 as JSON errors; a fast path is tried first and waited
  // for. Used by tests.
  Response Dispatch(Request& request) const;

 private:
  // A pattern split once, when its route is added: every request is held against every
  // route until one matches, and splitting each pattern per request cost more than the
  // rest of serving a static page.
  struct Compiled {
    bool prefix = false;                // "/base/*"
    std::string base;                   // prefix: "/base"
    std::vector<std::string> segments;  // otherwise: "api", "mail", "{id}"
    std::vector<bool> is_param;         // segments[i] is "{name}"
  };
  static Compiled Compile(const std::string& pattern);

  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;  // one per route, in the same order
};

}  // namespace penncloud::http
