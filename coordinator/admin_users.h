// The console's user management, admin only (every call checks the admin session and,
// for changes, its CSRF token, whatever the page shows):
//   GET  /api/admin/users?q=&after=&limit=   {"users":[{"username","admin","disabled",
//        "created","drive":{"used","quota"}}], "next": name|null}; `q` is a name prefix,
//        `limit` 1..100 (50)
//   POST /api/admin/users                     {"username","password","admin"?: bool} ->
//        201 the user, whatever the sign-up policy; 409 if the name is taken
//   POST /api/admin/users/{name}/disabled     {"disabled": bool} -> the user; disabling
//        ends the user's sessions and refuses every login until enabled again
//   POST /api/admin/users/{name}/admin        {"admin": bool} -> the user
//   POST /api/admin/users/{name}/reset        a one-time password-reset link (admin_reset.h)
//   GET|PUT /api/admin/users/{name}/drive     drive usage and quota (admin_quota.h)
// An admin cannot disable or demote their own account (409): the console would lock out
// the last person able to undo it.
#pragma once

#include "frontend/api_context.h"
#include "http/router.h"

namespace penncloud::coordinator {

void RegisterUserAdminRoutes(http::Router& router, const frontend::ApiContext& ctx);

}  // namespace penncloud::coordinator
