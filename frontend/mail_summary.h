// The JSON of a message in a listing (DESIGN.md: id, from, subject, date, unread, plus
// folder and a few more), for the search and conversation endpoints.
#pragma once

#include "http/types.h"
#include "nlohmann/json.hpp"
#include "proto/mail.pb.h"

namespace penncloud::frontend {

nlohmann::json MailSummary(const mail::pb::MessageMeta& m);

// A JSON response whose text may hold invalid UTF-8 from mail: replaced, not fatal.
http::Response MailJson(int status, const nlohmann::json& body);

}  // namespace penncloud::frontend
