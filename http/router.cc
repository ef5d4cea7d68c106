#include "http/router.h"

#include <string_view>

#include "http/json_response.h"

namespace penncloud::http {
namespace {

// Matches `path` against `pattern`, filling `params`.
bool PathMatches(std::string_view pattern, std::string_view path,
                 std::map<std::string, std::string>& params) {
  if (pattern.ends_with("/*")) {
    std::string_view base = pattern.substr(0, pattern.size() - 2);
    if (path == base) {
      params["*"] = "";
      return true;
    }
    if (path.size() > base.size() && path.starts_with(base) && path[base.size()] == '/') {
      params["*"] = std::string(path.substr(base.size() + 1));
      return true;
    }
    return false;
  }
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty()) return false;
    if (pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    size_t pe = pattern.find('/');
    size_t se = path.find('/');
    std::string_view pseg = pattern.substr(0, pe);
    std::string_view sseg = path.substr(0, se);
    if (pseg.size() >= 2 && pseg.front() == '{' && pseg.back() == '}') {
      if (sseg.empty()) return false;
      params[std::string(pseg.substr(1, pseg.size() - 2))] = std::string(sseg);
    } else if (pseg != sseg) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view() : path.substr(se);
  }
  return true;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler), options});
}

const Route* Router::Match(Request& request, bool* method_allowed) const {
  *method_allowed = true;
  bool path_seen = false;
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!PathMatches(route.pattern, request.path, params)) continue;
    path_seen = true;
    bool method_ok = route.method == "*" || route.method == request.method ||
                     (request.method == "HEAD" && route.method == "GET");
    if (!method_ok) continue;
    request.params = std::move(params);
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
  return route->handler(request);
}

}  // namespace penncloud::http
