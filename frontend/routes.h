// The frontend's whole route table: the accounts API, the mail and drive APIs (when their
// modules are built in), WebDAV, and the static web app last (its "/{page}" catches the
// rest).
#pragma once

#include "frontend/api_context.h"
#include "http/static_files.h"

namespace penncloud::frontend {

// `ctx` must outlive `router`: handlers keep a reference to it.
void BuildRoutes(Router& router, const ApiContext& ctx, const http::StaticOptions& static_options);

}  // namespace penncloud::frontend
