// Composing: sending and drafts take the same JSON body and obey the same limits.
//   POST /api/mail               send {to,cc,bcc,subject,body,reply_to|forward,attachments,
//                                draft?}; with "draft": id the saved draft is sent and removed
//   POST /api/mail/drafts        save a new draft (same body) → 201 {"id"}
//   PUT  /api/mail/drafts/{id}   replace a draft → 200 {"id"} (the new copy's id)
//
// BCC recipients are on the envelope only: never in a header of what is sent, filed in Sent
// or saved in Drafts. A draft keeps its BCC list, and which message it replies to or
// forwards, in a record of its own beside the mailbox (row "maildraft/<user>").
//
// Attachments: a request's "attachments" are added to what the message already carries,
// which is a saved draft's own attachments (PUT, or sending a draft), else the forwarded
// original's. The page sends files it has read only when it sends.
#pragma once

#include <memory>

#include "frontend/mail_api_services.h"

namespace penncloud::frontend {

inline constexpr uint64_t kMaxComposedBytes = 32 << 20;  // the built message, attachments in
inline constexpr size_t kMaxRecipients = 100;            // to + cc + bcc

void AddComposeRoutes(Router& router, const ApiContext& ctx,
                      const std::shared_ptr<MailServices>& mail);

// The saved BCC list and original ids of draft `id`, as GET /api/mail/{id} adds them.
nlohmann::json DraftExtras(const ApiContext& ctx, const std::string& user, const std::string& id);

}  // namespace penncloud::frontend
