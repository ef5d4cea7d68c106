// The accounts part of the JSON API: /api/signup, /api/login (and /api/login/code, the
// second step of a two-factor sign-in), /api/logout, /api/password, /api/me. Account
// settings (app passwords, two-factor, sessions) are account_settings_api.h.
#pragma once

#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterAccountRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
