// Full-text search of the webmail (DESIGN.md wave 2; the language: mail/search_query.h):
//   GET /api/mail/search?q=...[&cursor=..][&limit=1..100]
//     -> {"messages":[{id,folder,from,to,subject,date,received,unread,flagged,size,preview,
//                      has_attachments}], "next": cursor or ""}
// A malformed query is a 400 whose "error" says what is wrong.
//
// Registered before RegisterMailRoutes, whose /api/mail/{id} would take "search" as an id.
#pragma once

#include "frontend/api_context.h"
#include "http/router.h"

namespace penncloud::frontend {

void RegisterMailSearchRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
