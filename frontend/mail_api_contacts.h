// Contacts for compose's autocomplete, from past correspondents:
//   GET /api/mail/contacts?q=text[&limit=1..20]  -> {"contacts":[{"address","name"}]}
// Everyone the user wrote to (To of the newest kContactScan messages in Sent) and heard from
// (From of the newest kContactScan in Inbox), ranked by frequency and recency together: each
// message adds its weight (2 for mail the user sent, 1 for mail received) halved for every
// 30 days of its age. `q` matches anywhere in the address or the name, case-insensitively.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/mail_api_services.h"

namespace penncloud::frontend {

inline constexpr int kContactScan = 500;

struct NamedAddress {
  std::string name;     // "" if none
  std::string address;  // lower case
};
// The mailboxes of an address list as the store keeps it ("Ann <ann@x>, bob@y"): commas
// inside quotes do not split, an entry without '@' or over 254 bytes is dropped, and at most
// 100 entries are read.
std::vector<NamedAddress> SplitAddressList(std::string_view list);

void AddContactRoutes(Router& router, const ApiContext& ctx,
                      const std::shared_ptr<MailServices>& mail);

}  // namespace penncloud::frontend
