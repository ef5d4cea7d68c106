// The coordinator's own routes: /admin (the console page, web/admin.html) and
// /api/admin/..., served only to an admin session (anything else gets 403). The contract
// of every route is in docs/admin.md; the handlers here only parse and answer, the work is
// done by the node table, launcher, history and data browser.
#pragma once

#include <string>

#include "coordinator/admin_data.h"
#include "coordinator/admin_membership.h"
#include "coordinator/history.h"
#include "coordinator/launcher.h"
#include "coordinator/node_table.h"
#include "frontend/api_context.h"

namespace penncloud::coordinator {

// A handler that answers 403 unless the request carries an admin session (with the CSRF
// rule of frontend::RequireSession for state-changing methods).
http::Handler WithAdmin(const frontend::ApiContext& ctx, frontend::SessionHandler handler);

struct AdminServices {
  NodeTable* nodes = nullptr;
  Launcher* launcher = nullptr;
  History* history = nullptr;
  DataBrowser* data = nullptr;
  Membership* membership = nullptr;
  std::string web_root;  // where admin.html lives
};

void RegisterAdminRoutes(http::Router& router, const frontend::ApiContext& ctx,
                         const AdminServices& services);

}  // namespace penncloud::coordinator
