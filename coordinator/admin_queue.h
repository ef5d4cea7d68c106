// The console's view of the outbound mail queue, admin only (every call checks the admin
// session and, for changes, its CSRF token, whatever the page shows):
//   GET    /api/admin/queue?after=&limit=   {"messages":[{"id","sender","recipients",
//          "enqueued","age_s","attempts","last_error","next_retry","held","delivering",
//          "size"}],"next": id|null}; oldest first, `limit` 1..200 (50)
//   POST   /api/admin/queue/{id}/retry     due now (the next queue pass tries it)
//   DELETE /api/admin/queue/{id}           dropped: never delivered, no bounce; a webmail
//          sender's delivery timeline says so
// An entry a queue runner is delivering right now answers 409 to both changes.
#pragma once

#include "frontend/api_context.h"
#include "http/router.h"

namespace penncloud::coordinator {

void RegisterQueueAdminRoutes(http::Router& router, const frontend::ApiContext& ctx);

}  // namespace penncloud::coordinator
