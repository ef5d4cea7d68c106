#include "frontend/mail_threads_api.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "frontend/mail_summary.h"
#include "mail/mail_store.h"
#include "mail/thread.h"

namespace penncloud::frontend {
namespace {

constexpr int kMaxThreadPage = 500;

Response Threads(mail::MailStore& store, Request& req, const accounts::Session& s) {
  std::string folder = req.Query("folder", "inbox");
  if (!store.FolderExists(s.username, folder)) {
    return ErrorResponse(400, "no such folder (inbox, sent, drafts, trash, junk or your own)");
  }
  int limit = 100, offset = 0;
  if (!req.Query("limit").empty() &&
      (!absl::SimpleAtoi(req.Query("limit"), &limit) || limit < 1 || limit > kMaxThreadPage)) {
    return ErrorResponse(400, "limit must be 1..500");
  }
  if (!req.Query("offset").empty() &&
      (!absl::SimpleAtoi(req.Query("offset"), &offset) || offset < 0)) {
    return ErrorResponse(400, "offset must be a number of threads");
  }
  auto threads = mail::FolderThreads(store, s.username, folder);
  if (!threads.ok()) return FromStatus(threads.status());
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = offset; i < threads->size() && out.size() < static_cast<size_t>(limit); ++i) {
    const mail::Thread& t = (*threads)[i];
    out.push_back({{"id", t.id},
                   {"subject", t.subject},
                   {"count", t.messages.size()},
                   {"unread", t.unread},
                   {"latest", t.latest_micros / 1000},
                   {"messages", t.messages}});
  }
  return MailJson(200, {{"threads", out}, {"total", threads->size()}});
}

}  // namespace

void RegisterMailThreadsRoutes(Router& router, const ApiContext& ctx) {
  auto store = std::make_shared<mail::MailStore>(*ctx.store);
  router.Add("GET", "/api/mail/threads",
             WithSession(ctx, [store](Request& r, const accounts::Session& s) {
               return Threads(*store, r, s);
             }));
}

}  // namespace penncloud::frontend
