// What the webmail handlers (frontend/mail_api*.cc) share: one frontend's mail services
// and one way to register a route. Private to the mail API.
#pragma once

#include <memory>
#include <string>

#include "accounts/sending_policy.h"
#include "frontend/api_context.h"
#include "frontend/mail_summary.h"
#include "http/router.h"
#include "mail/delivery.h"
#include "mail/mail_store.h"
#include "mail/outbound_queue.h"
#include "nlohmann/json.hpp"

namespace penncloud::frontend {

struct MailServices {
  explicit MailServices(const ApiContext& ctx);
  accounts::SendingPolicy sending;  // constructed first: Delivery asks it
  mail::MailStore store;
  mail::OutboundQueue queue;
  mail::Delivery delivery;
};

// A string member of a JSON object, or "" if absent or not a string.
std::string OptionalString(const nlohmann::json& body, const char* key);

using MailHandler = Response (*)(MailServices&, const ApiContext&, Request&,
                                 const accounts::Session&);
// Adds `pattern` behind the session check, its handler given the shared services.
void AddMailRoute(Router& router, const ApiContext& ctx, const std::shared_ptr<MailServices>& mail,
                  const char* method, const char* pattern, MailHandler handler,
                  RouteOptions options = {});

}  // namespace penncloud::frontend
