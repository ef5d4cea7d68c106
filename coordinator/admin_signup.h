// The console's sign-up settings (frontend/signup_policy.h), admin only:
//   GET    /api/admin/signup           {"policy", "invites":[{"id","creator","expires"}]}
//   PUT    /api/admin/signup           {"policy": "open"|"invite"|"closed"}
//   POST   /api/admin/invites          {"days"?: 1..30, default 7} -> 201 {"id","token","url",
//                                       "expires"}; the token is shown only here
//   DELETE /api/admin/invites/{id}     revoke
#pragma once

#include "frontend/api_context.h"
#include "http/router.h"

namespace penncloud::coordinator {

void RegisterSignupAdminRoutes(http::Router& router, const frontend::ApiContext& ctx);

}  // namespace penncloud::coordinator
