// Account settings in the JSON API, all for the logged-in user (cookie + CSRF as usual):
//
//   GET    /api/account/app-passwords         {"app_passwords":[{"id","name","created",
//                                              "last_used"|null}]}
//   POST   /api/account/app-passwords         {"name"} -> 201 {"id","name","created",
//                                              "password"} (the secret, shown this once)
//   DELETE /api/account/app-passwords/{id}    revoke -> {}
//   GET    /api/account/two-factor            {"enabled","recovery_codes_left"}
//   POST   /api/account/two-factor/setup      {"secret","uri","qr_svg"} (pending until
//                                              confirmed)
//   POST   /api/account/two-factor/confirm    {"code"} -> {"recovery_codes":[...]}
//   POST   /api/account/two-factor/disable    {"password","code"} -> {}
//   GET    /api/account/sessions              {"sessions":[{"id","device","user_agent",
//                                              "address","created","last_seen","current"}]}
//   DELETE /api/account/sessions/{id}         end one -> {}
//   POST   /api/account/sessions/end-others   -> {}
//   GET    /api/account/profile               {"display_name","signature"} (webmail's
//   PUT    /api/account/profile               From name and signature; mail_api_profile.h)
//
// Times are RFC 3339 in UTC. The rules live in accounts/ (app_passwords.h, two_factor.h,
// accounts.h); this file only maps them to HTTP.
#pragma once

#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterAccountSettingsRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
