// The webmail JSON API over the mailbox store (mail/):
//   GET    /api/mail?folder=inbox|sent|trash[&cursor=..][&limit=..][&q=..]   listing / search
//   GET    /api/mail/counts                      unread counts per folder
//   GET    /api/mail/{id}                        one message (marks it read)
//   GET    /api/mail/{id}/attachments/{n}        attachment n's bytes (download)
//   GET    /api/mail/{id}/html[?images=1]       the HTML body under a sandboxing CSP
//   GET    /api/mail/{id}/source                 the RFC 5322 source
//   POST   /api/mail                             send {to,cc,subject,body,reply_to|forward,
//                                                attachments:[{filename,content_type,data}]}
//   POST   /api/mail/{id}/flags                  {"unread": bool}
//   DELETE /api/mail/{id}                        to Trash; from Trash: for good
#pragma once

#include "frontend/api_context.h"
#include "frontend/router.h"

namespace penncloud::frontend {

void RegisterMailRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
