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
#include <string>
#include <vector>

#include "http/types.h"

namespace penncloud::http {

using Handler = std::function<Response(Request&)>;

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
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  // The route serving `request`, with request.params filled; nullptr if none.
  // `*method_allowed` is set false when the path matches but the method does not (405).
  const Route* Match(Request& request, bool* method_allowed) const;

  // Match + call, with 404 / 405 as JSON errors. Used by tests and by the server.
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
