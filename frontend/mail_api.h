// The webmail JSON API over the mailbox store (mail/):
//   GET    /api/mail?folder=<folder>[&cursor=..][&limit=..][&q=..]   listing / search
//   GET    /api/mail/folders                     {"folders":[{name,special?,total,unread}]}
//   POST   /api/mail/folders {"name"}            a user folder ('/' nests); 201
//   POST   /api/mail/folders/rename {"from","to"}
//   DELETE /api/mail/folders?name=               a user folder and its messages
//   POST   /api/mail/{id}/move {"folder"}        e.g. restore from Trash
//   GET    /api/mail/counts                      unread counts per folder
//   GET    /api/mail/{id}                        one message (marks it read)
//   GET    /api/mail/{id}/attachments/{n}        attachment n's bytes (download)
//   GET    /api/mail/{id}/html[?images=1]       the HTML body under a sandboxing CSP
//   GET    /api/mail/{id}/source                 the RFC 5322 source
//   POST   /api/mail                             send {to,cc,subject,body,reply_to|forward,
//                                                attachments:[{filename,content_type,data}]}
//   POST   /api/mail/{id}/flags                  {"unread"?: bool, "flagged"?: bool}
//   DELETE /api/mail/{id}                        to Trash; from Trash: for good
#pragma once

#include "frontend/api_context.h"
#include "http/router.h"

namespace penncloud::frontend {

void RegisterMailRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
