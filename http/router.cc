#include "http/router.h"

#include <array>
#include <future>
#include <string_view>

#include "http/json_response.h"

namespace penncloud::http {
namespace {

// A request path split at '/' once per request ("/api/mail/7" -> "api", "mail", "7"). A
// path of more segments than any pattern has can match only prefix routes.
struct PathSegments {
  static constexpr size_t kMax = 32;
  std::array<std::string_view, kMax> items;
  size_t count = 0;
  bool too_many = false;  // or not starting with '/'
};

PathSegments Split(std::string_view path) {
  PathSegments out;
  if (path.empty() || path.front() != '/') {
    out.too_many = true;
    return out;
  }
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    size_t end = path.find('/');
    if (out.count == PathSegments::kMax) {
      out.too_many = true;
      return out;
    }
    out.items[out.count++] = path.substr(0, end);
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return out;
}

}  // namespace

Router::Compiled Router::Compile(const std::string& pattern) {
  Compiled c;
  if (pattern.ends_with("/*")) {
    c.prefix = true;
    c.base = pattern.substr(0, pattern.size() - 2);
    return c;
  }
  PathSegments split = Split(pattern);
  for (size_t i = 0; i < split.count; ++i) {
    std::string_view seg = split.items[i];
    const bool param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    c.segments.emplace_back(param ? seg.substr(1, seg.size() - 2) : seg);
    c.is_param.push_back(param);
  }
  return c;
}

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  AddWithFastPath(std::move(method), std::move(pattern), nullptr, std::move(handler), options);
}

void Router::AddWithFastPath(std::string method, std::string pattern, FastPath fast_path,
                             Handler handler, RouteOptions options) {
  compiled_.push_back(Compile(pattern));
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler), options,
                          std::move(fast_path)});
}

const Route* Router::Match(Request& request, bool* method_allowed) const {
  *method_allowed = true;
  bool path_seen = false;
  const std::string_view path = request.path;
  const PathSegments split = Split(path);
  for (size_t r = 0; r < routes_.size(); ++r) {
    const Route& route = routes_[r];
    const Compiled& c = compiled_[r];
    std::string_view rest;  // a prefix route's "*"
    if (c.prefix) {
      if (path == c.base) {
        rest = {};
      } else if (path.size() > c.base.size() && path.starts_with(c.base) &&
                 path[c.base.size()] == '/') {
        rest = path.substr(c.base.size() + 1);
      } else {
        continue;
      }
    } else {
      if (split.too_many || split.count != c.segments.size()) continue;
      bool same = true;
      for (size_t i = 0; i < split.count && same; ++i) {
        same = c.is_param[i] ? !split.items[i].empty() : split.items[i] == c.segments[i];
      }
      if (!same) continue;
    }
    path_seen = true;
    bool method_ok = route.method == "*" || route.method == request.method ||
                     (request.method == "HEAD" && route.method == "GET");
    if (!method_ok) continue;
    request.params.clear();
    if (c.prefix) {
      request.params["*"] = std::string(rest);
    } else {
      for (size_t i = 0; i < split.count; ++i) {
        if (c.is_param[i]) request.params[c.segments[i]] = std::string(split.items[i]);
      }
    }
    return &route;
  }
  if (path_seen) *method_allowed = false;
  return nullptr;
}

Response Router::Dispatch(Request& request) const {
  bool method_allowed = true;
  const Route* route = Match(request, &method_allowed);
  if (route == nullptr) {
    return method_allowed ? ErrorResponse(404, "not found")
                          : ErrorResponse(405, "method not allowed");
  }
  if (route->fast_path) {
    std::promise<std::optional<Response>> answer;
    std::future<std::optional<Response>> answered = answer.get_future();
    route->fast_path(request,
                     [&answer](std::optional<Response> res) { answer.set_value(std::move(res)); });
    if (std::optional<Response> res = answered.get()) return *std::move(res);
  }
  return route->handler(request);
}

}  // namespace penncloud::http
