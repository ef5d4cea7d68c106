// The accounts part of the JSON API: /api/signup, /api/login, /api/logout, /api/password,
// /api/me.
#pragma once

#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterAccountRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
