#include "frontend/mail_search_api.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "frontend/mail_summary.h"
#include "mail/search.h"

namespace penncloud::frontend {
namespace {

// Cursors are 32 printable bytes (an id, or the place a bounded scan stopped).
bool IsCursor(std::string_view c) {
  if (c.empty()) return true;
  if (c.size() != 32) return false;
  for (char ch : c) {
    if (ch <= 0x20 || ch >= 0x7f) return false;
  }
  return true;
}

struct SearchServices {
  explicit SearchServices(const ApiContext& ctx) : store(*ctx.store), search(store) {}
  mail::MailStore store;
  mail::MailSearch search;
};

Response Search(SearchServices& services, Request& req, const accounts::Session& s) {
  auto query = mail::ParseSearchQuery(req.Query("q"));
  if (!query.ok()) return ErrorResponse(400, std::string(query.status().message()));
  int limit = 50;
  if (!req.Query("limit").empty() && (!absl::SimpleAtoi(req.Query("limit"), &limit) || limit < 1 ||
                                      limit > mail::kMaxSearchPage)) {
    return ErrorResponse(400, "limit must be 1..100");
  }
  std::string cursor = req.Query("cursor");
  if (!IsCursor(cursor)) return ErrorResponse(400, "bad cursor");
  auto page = services.search.Search(s.username, *query, cursor, limit);
  if (!page.ok()) return FromStatus(page.status());
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : page->messages) messages.push_back(MailSummary(m));
  return MailJson(200, {{"messages", messages}, {"next", page->next_cursor}});
}

}  // namespace

void RegisterMailSearchRoutes(Router& router, const ApiContext& ctx) {
  auto services = std::make_shared<SearchServices>(ctx);
  router.Add("GET", "/api/mail/search",
             WithSession(ctx, [services](Request& r, const accounts::Session& s) {
               return Search(*services, r, s);
             }));
}

}  // namespace penncloud::frontend
