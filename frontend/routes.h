// The frontend's whole route table: the accounts API, the mail and drive APIs (when their
// modules are built in), WebDAV, and the static web app last (its "/{page}" catches the
// rest).
#pragma once

#include <string>

#include "frontend/api_context.h"
#include "http/static_files.h"

namespace penncloud::frontend {

// The web app's files: its pages and /static/ from `web_root` (web/ of the checkout),
// Bootstrap under /assets/ from `assets_root`, Debian's bootstrap-icons under /icons/; the
// console page is the coordinator's.
http::StaticSite WebAppSite(const std::string& web_root, const std::string& assets_root);
// Debian's libjs-bootstrap5.
inline constexpr char kDefaultAssetsRoot[] = "/usr/share/javascript/bootstrap5";

// `ctx` must outlive `router`: handlers keep a reference to it.
void BuildRoutes(Router& router, const ApiContext& ctx, const http::StaticSite& site);

}  // namespace penncloud::frontend
