// Delivery timelines, undo send, and retry/cancel of deferred mail, for webmail's Sent:
//   GET  /api/mail/{id}/delivery          {"recipients":[{"address","state","reply"?,
//        "next_retry"?,"attempts","updated"}],"undo_until"?,"pending"} (a Sent message)
//   POST /api/mail/{id}/delivery/retry    a deferred message is tried again now
//   POST /api/mail/{id}/delivery/cancel   stop trying (recipients left: cancelled, no bounce)
//   POST /api/mail/{id}/undo              within the undo window: nothing goes out, the
//        message is back in Drafts (same id); after it: 409
//   GET/PUT /api/account/undo-send        {"seconds": 0..30}, the account's undo window
//
// How a send is held (docs/mail.md, "Delivery timelines and undo send"): one outbound
// queue entry carries every recipient, local ones included, marked held and due at the end
// of the window; it is written first, then the Sent copy and its timeline
// (mail/delivery_intent.h). Nothing else holds it: whichever queue runner claims the entry
// once it is due releases it (local copies, then the remote attempt), so a frontend that
// dies inside the window, or in the middle of the send, loses nothing. Undo is a
// compare-and-delete of that same entry while it is held and not yet due, so undo and
// release exclude each other. A timeline whose entry is gone without its result shows the
// open recipients as "unknown".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/mail_api_services.h"

namespace penncloud::frontend {

inline constexpr int kMaxUndoSeconds = 30;

void RegisterMailDeliveryRoutes(Router& router, const ApiContext& ctx);

// A send through the API: its queue entry, the Sent copy and its timeline, then either
// everything held for `hold_seconds` (the undo window webmail asks for) or, with 0, the
// local copies stored now and the rest left to the relay. Returns the Sent copy's entry.
absl::StatusOr<mail::pb::MessageMeta> SendWithTimeline(MailServices& mail, const ApiContext& ctx,
                                                       const std::string& user,
                                                       const std::vector<std::string>& recipients,
                                                       std::string_view source, int hold_seconds);

// The account's undo window in seconds (the site default until the user picks one).
absl::StatusOr<int> UndoSeconds(const ApiContext& ctx, const std::string& user);

}  // namespace penncloud::frontend
