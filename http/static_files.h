// The web app's files: pages from web/ ("/" is web/index.html, "/login" web/login.html,
// any "/name" web/name.html), scripts and styles under /static/ (web/static/), and
// Bootstrap under /assets/ (Debian's libjs-bootstrap5). Files are read once and kept in
// memory; pages carry the security headers (a strict CSP: no inline scripts or styles).
#pragma once

#include <string>

#include "http/router.h"

namespace penncloud::http {

struct StaticOptions {
  std::string web_root;  // web/ of the checkout
  std::string assets_root = "/usr/share/javascript/bootstrap5";
};

void RegisterStaticRoutes(Router& router, const StaticOptions& options);

// Headers every HTML page gets.
void AddPageSecurityHeaders(Response& res);

}  // namespace penncloud::http
