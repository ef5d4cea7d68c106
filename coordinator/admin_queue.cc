#include "coordinator/admin_queue.h"

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "coordinator/admin.h"
#include "mail/delivery_status.h"
#include "mail/outbound_queue.h"

namespace penncloud::coordinator {
namespace {

using frontend::FromStatus;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;
using Session = accounts::Session;
using nlohmann::json;

constexpr int kMaxQueuePage = 200;

std::string Iso(int64_t micros) {
  return absl::FormatTime(absl::RFC3339_sec, absl::FromUnixMicros(micros), absl::UTCTimeZone());
}

json EntryJson(const mail::pb::QueuedMessage& e, int64_t now) {
  json recipients = json::array();
  for (const auto& r : e.local_recipients()) recipients.push_back(r);
  for (const auto& r : e.recipients()) recipients.push_back(r);
  return {{"id", e.id()},
          {"sender", e.sender()},
          {"recipients", recipients},
          {"enqueued", Iso(e.enqueued_micros())},
          {"age_s", std::max<int64_t>(0, (now - e.enqueued_micros()) / 1'000'000)},
          {"attempts", e.attempts()},
          {"last_error", e.last_error()},
          {"next_retry", Iso(e.next_attempt_micros())},
          {"held", e.held()},
          {"delivering", !e.lease_owner().empty() && e.lease_until_micros() > now},
          {"size", e.size()}};
}

Response Changed(const absl::StatusOr<mail::pb::QueuedMessage>& done) {
  if (absl::IsNotFound(done.status())) return ErrorResponse(404, "no such queued message");
  if (absl::IsFailedPrecondition(done.status())) {
    return ErrorResponse(409, std::string(done.status().message()));
  }
  return FromStatus(done.status());
}

}  // namespace

void RegisterQueueAdminRoutes(http::Router& router, const frontend::ApiContext& ctx) {
  auto queue = std::make_shared<mail::OutboundQueue>(*ctx.store);
  kvs::Client* store = ctx.store;
  router.Add("GET", "/api/admin/queue", WithAdmin(ctx, [queue](Request& req, const Session&) {
               int limit = 50;
               if (std::string given = req.Query("limit", ""); !given.empty()) {
                 if (!absl::SimpleAtoi(given, &limit) || limit < 1 || limit > kMaxQueuePage) {
                   return ErrorResponse(400, "limit must be 1 to 200");
                 }
               }
               auto page = queue->List(req.Query("after", ""), limit);
               if (!page.ok()) return FromStatus(page.status());
               int64_t now = queue->Now();
               json messages = json::array();
               for (const auto& e : page->entries) messages.push_back(EntryJson(e, now));
               json next = page->more && !page->entries.empty() ? json(page->entries.back().id())
                                                                : json(nullptr);
               return JsonResponse(200, {{"messages", messages}, {"next", next}});
             }));
  router.Add("POST", "/api/admin/queue/{id}/retry",
             WithAdmin(ctx, [queue](Request& req, const Session& admin) {
               auto done = queue->Modify(req.params["id"], [&](mail::pb::QueuedMessage& e) {
                 // A held send waits out its undo window, whoever asks: its sender may still
                 // take it back.
                 if (e.held()) {
                   return absl::FailedPreconditionError("held for the sender's undo window");
                 }
                 e.set_next_attempt_micros(queue->Now());
                 return absl::OkStatus();
               });
               if (!done.ok()) return Changed(done);
               PC_LOG(kInfo, "admin.queue_retry")("id", done->id())("by", admin.username);
               return JsonResponse(200, EntryJson(*done, queue->Now()));
             }));
  router.Add(
      "DELETE", "/api/admin/queue/{id}",
      WithAdmin(ctx, [queue, store](Request& req, const Session& admin) {
        auto gone = queue->Withdraw(
            req.params["id"], [](const mail::pb::QueuedMessage&) { return absl::OkStatus(); });
        if (!gone.ok()) return Changed(gone);
        // The entry is gone, so no runner writes the sender's timeline any more.
        if (!gone->user().empty()) {
          int64_t now = queue->Now();
          auto s = mail::DeliveryStatusStore(*store).Update(
              gone->user(), gone->sent_id(), [&](mail::pb::DeliveryStatus& st) {
                for (const auto* list : {&gone->local_recipients(), &gone->recipients()}) {
                  for (const auto& r : *list) {
                    mail::SetRecipient(st, r, mail::kCancelled, "dropped by an administrator", 0,
                                       -1, now);
                  }
                }
                st.clear_queue_id();
                st.set_undo_until_micros(0);
              });
          if (!s.ok()) {
            PC_LOG(kWarn, "admin.queue_timeline_failed")("id", gone->id())("error", s.ToString());
          }
        }
        PC_LOG(kInfo, "admin.queue_drop")
        ("id", gone->id())("sender", gone->sender())("by", admin.username);
        return JsonResponse(200, {{"dropped", gone->id()}});
      }));
}

}  // namespace penncloud::coordinator
