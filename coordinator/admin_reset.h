// The console's password-reset links (accounts/password_reset.h), admin only:
//   POST /api/admin/users/{name}/reset  {"hours"?: 1..168, default 24}
//        -> 201 {"username","token","url":"/reset?token=...","expires"}
// The token is shown only in this answer; the store keeps its digest. A new link retires
// the user's previous one. The user opens the link, sets a new password, and every session
// they had ends; their app passwords stay.
#pragma once

#include "frontend/api_context.h"

namespace penncloud::coordinator {

void RegisterResetAdminRoutes(http::Router& router, const frontend::ApiContext& ctx);

}  // namespace penncloud::coordinator
