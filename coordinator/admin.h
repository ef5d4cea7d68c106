// The coordinator's own routes: /admin and /api/admin/..., served only to an admin
// session (the accounts library decides; anything else gets 403). The console itself
// is a later piece of work; for now there is a placeholder page and the node table.
#pragma once

#include "coordinator/registry.h"
#include "frontend/api_context.h"

namespace penncloud::coordinator {

// A handler that answers 403 unless the request carries an admin session (with the CSRF
// rule of frontend::RequireSession for state-changing methods).
frontend::Handler WithAdmin(const frontend::ApiContext& ctx, frontend::SessionHandler handler);

void RegisterAdminRoutes(frontend::Router& router, const frontend::ApiContext& ctx,
                         Registry* registry);

}  // namespace penncloud::coordinator
