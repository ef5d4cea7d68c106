#include "frontend/mail_summary.h"

namespace penncloud::frontend {

nlohmann::json MailSummary(const mail::pb::MessageMeta& m) {
  return {{"id", m.id()},
          {"folder", m.folder()},
          {"from", m.from()},
          {"to", m.to()},
          {"subject", m.subject()},
          {"date", m.date()},
          {"received", m.received_micros() / 1000},
          {"unread", !m.seen()},
          {"flagged", m.flagged()},
          {"size", m.size()},
          {"preview", m.preview()},
          {"has_attachments", m.has_attachments()}};
}

http::Response MailJson(int status, const nlohmann::json& body) {
  http::Response res;
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  res.headers.Set("Cache-Control", "no-store");
  res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

}  // namespace penncloud::frontend
