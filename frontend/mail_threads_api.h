// Conversations (DESIGN.md wave 2; the grouping: mail/thread.h):
//   GET /api/mail/threads?folder=inbox[&offset=N][&limit=1..500]
//     -> {"threads":[{id,subject,count,unread,latest,messages:[ids]}], "total": N}
// Threads come most recently active first; a thread's messages parents before replies.
//
// Registered before RegisterMailRoutes, whose /api/mail/{id} would take "threads" as an id.
#pragma once

#include "frontend/api_context.h"
#include "http/router.h"

namespace penncloud::frontend {

void RegisterMailThreadsRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
