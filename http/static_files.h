// Static files from folders the caller names: HTML pages (with the page security headers,
// a strict CSP: no inline scripts or styles) and folders of assets under URL prefixes.
// Files are read on first use and kept in memory, up to a bound.
#pragma once

#include <string>
#include <vector>

#include "http/router.h"

namespace penncloud::http {

// "<prefix>/*" served from `root`: "/static" and "web/static" serve "/static/app.js" from
// "web/static/app.js". Nothing outside `root` is reachable.
struct StaticFolder {
  std::string prefix;
  std::string root;
  std::string cache_control = "no-cache";
};

struct StaticSite {
  // "/" is <pages_root>/index.html and "/{name}" is <pages_root>/<name>.html.
  std::string pages_root;
  // Names "/{name}" never serves, whatever spelling of the path reached it (a page another
  // server serves after its own checks).
  std::vector<std::string> hidden_pages = {};
  std::vector<StaticFolder> folders = {};
};

// Registers GET "/", "/{name}" and each folder's "<prefix>/*"; all nonblocking. Register
// them last: "/{name}" takes any one-segment path.
void RegisterStaticRoutes(Router& router, const StaticSite& site);

// Headers every HTML page gets.
void AddPageSecurityHeaders(Response& res);

}  // namespace penncloud::http
