#include "frontend/mail_delivery_api.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "mail/delivery_intent.h"
#include "mail/delivery_status.h"
#include "mail/imap_message.h"
#include "mail/mime.h"
#include "mail/relay_release.h"
#include "mail/text.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

std::string ProfileRow(const std::string& user) { return "mailprofile/" + user; }
constexpr char kUndoColumn[] = "undo";

std::string Iso(int64_t micros) {
  return absl::FormatTime(absl::RFC3339_sec, absl::FromUnixMicros(micros), absl::UTCTimeZone());
}

json TimelineJson(const mail::pb::DeliveryStatus& status, int64_t now) {
  json recipients = json::array();
  for (const auto& r : status.recipients()) {
    json line = {{"address", r.address()},
                 {"state", r.state()},
                 {"attempts", r.attempts()},
                 {"updated", Iso(r.updated_micros())}};
    if (!r.reply().empty()) line["reply"] = r.reply();
    if (r.state() == mail::kDeferred && r.next_retry_micros() > 0) {
      line["next_retry"] = Iso(r.next_retry_micros());
    }
    recipients.push_back(std::move(line));
  }
  json out = {{"recipients", recipients},
              {"sent", Iso(status.sent_micros())},
              {"pending", !status.queue_id().empty()}};
  if (status.undo_until_micros() > now) {
    out["undo_until"] = Iso(status.undo_until_micros());
    out["undo_ms"] = (status.undo_until_micros() - now) / 1000;
  }
  return out;
}

// The timeline of message {id}, which must be in the user's Sent.
absl::StatusOr<mail::pb::DeliveryStatus> TimelineOf(MailServices& mail, const ApiContext& ctx,
                                                    const std::string& user,
                                                    const std::string& id) {
  auto meta = mail.store.Entry(user, mail::kSent, id);
  if (!meta.ok()) {
    if (absl::IsNotFound(meta.status())) return absl::NotFoundError("no such message in Sent");
    return meta.status();
  }
  mail::DeliveryStatusStore timelines(*ctx.store);
  auto status = timelines.Load(user, id);
  if (absl::IsNotFound(status.status())) return mail::pb::DeliveryStatus();
  return status;
}

// The queue entry's owner must be the caller and the message this one.
absl::Status Owned(const mail::pb::QueuedMessage& e, const std::string& user,
                   const std::string& id) {
  if (e.user() != user || e.sent_id() != id) return absl::NotFoundError("no such message");
  return absl::OkStatus();
}

Response Conflict(const absl::Status& s, const char* gone) {
  if (absl::IsNotFound(s)) return ErrorResponse(409, gone);
  if (absl::IsFailedPrecondition(s)) return ErrorResponse(409, std::string(s.message()));
  return FromStatus(s);
}

// A timeline still naming a queue entry that is gone was cut short: the entry ended, or
// was never written by an older version that wrote the timeline first, without its result
// reaching the timeline. Every writer updates the timeline before it removes the entry, so
// the timeline is read once more after the entry is seen gone; what is still open then is
// shown as unknown, and nothing waits any more.
absl::StatusOr<mail::pb::DeliveryStatus> Settled(MailServices& mail, const ApiContext& ctx,
                                                 const std::string& user, const std::string& id,
                                                 mail::pb::DeliveryStatus status) {
  if (status.queue_id().empty()) return status;
  auto entry = mail.queue.Get(status.queue_id());
  if (!absl::IsNotFound(entry.status())) return status;
  const std::string gone = status.queue_id();
  auto again = TimelineOf(mail, ctx, user, id);
  if (!again.ok() || again->queue_id() != gone) return again;
  again->clear_queue_id();
  again->clear_undo_until_micros();
  for (auto& r : *again->mutable_recipients()) {
    if (r.state() == mail::kQueued || r.state() == mail::kDeferred) {
      r.set_state(mail::kUnknown);
      r.set_reply("the delivery record ended before this result was written");
      r.clear_next_retry_micros();
    }
  }
  return again;
}

Response GetTimeline(MailServices& mail, const ApiContext& ctx, Request& req,
                     const accounts::Session& s) {
  const std::string id = req.params["id"];
  auto status = TimelineOf(mail, ctx, s.username, id);
  if (status.ok()) status = Settled(mail, ctx, s.username, id, *std::move(status));
  if (!status.ok()) return FromStatus(status.status());
  return JsonResponse(200, TimelineJson(*status, mail.queue.Now()));
}

Response Retry(MailServices& mail, const ApiContext& ctx, Request& req,
               const accounts::Session& s) {
  const std::string id = req.params["id"];
  auto status = TimelineOf(mail, ctx, s.username, id);
  if (!status.ok()) return FromStatus(status.status());
  if (status->queue_id().empty()) return ErrorResponse(409, "nothing is waiting to be delivered");
  // Only the queue entry changes: the attempt it triggers writes the timeline (writing it
  // here could land after that attempt's result and hide it).
  auto done = mail.queue.Modify(status->queue_id(), [&](mail::pb::QueuedMessage& e) {
    if (auto owned = Owned(e, s.username, id); !owned.ok()) return owned;
    if (e.held()) return absl::FailedPreconditionError("the message is still in its undo window");
    e.set_next_attempt_micros(mail.queue.Now());
    return absl::OkStatus();
  });
  if (!done.ok()) return Conflict(done.status(), "nothing is waiting to be delivered");
  PC_LOG(kInfo, "mail.delivery_retry")("user", s.username)("queue_id", done->id());
  json out = TimelineJson(*status, mail.queue.Now());
  out["retrying"] = true;
  return JsonResponse(200, out);
}

Response Cancel(MailServices& mail, const ApiContext& ctx, Request& req,
                const accounts::Session& s) {
  const std::string id = req.params["id"];
  auto status = TimelineOf(mail, ctx, s.username, id);
  if (!status.ok()) return FromStatus(status.status());
  if (status->queue_id().empty()) return ErrorResponse(409, "nothing is waiting to be delivered");
  auto removed = mail.queue.Withdraw(status->queue_id(), [&](const mail::pb::QueuedMessage& e) {
    if (auto owned = Owned(e, s.username, id); !owned.ok()) return owned;
    if (e.held())
      return absl::FailedPreconditionError("the message is in its undo window: undo it");
    return absl::OkStatus();
  });
  if (!removed.ok()) return Conflict(removed.status(), "nothing is waiting to be delivered");
  // The entry is gone, so no runner writes this timeline any more.
  int64_t now = mail.queue.Now();
  mail::DeliveryStatusStore timelines(*ctx.store);
  mail::pb::DeliveryStatus next = *status;
  for (const std::string& r : removed->recipients()) {
    mail::SetRecipient(next, r, mail::kCancelled, "cancelled by the sender", 0, -1, now);
  }
  next.clear_queue_id();
  if (auto saved = timelines.Save(s.username, id, next); !saved.ok()) return FromStatus(saved);
  PC_LOG(kInfo, "mail.delivery_cancelled")("user", s.username)("queue_id", removed->id());
  return JsonResponse(200, TimelineJson(next, now));
}

// The recipients a message's own To and Cc do not name: its Bcc list, for the draft.
std::vector<std::string> BccOf(const mail::pb::QueuedMessage& e, std::string_view source) {
  mail::ParsedMessage parsed = mail::ParseMessage(mail::HeaderBlock(source));
  const std::string named = mail::ToLower(parsed.to + "," + parsed.cc);
  std::vector<std::string> bcc;
  for (const auto* list : {&e.local_recipients(), &e.recipients()}) {
    for (const std::string& a : *list) {
      if (named.find(mail::ToLower(a)) == std::string::npos) bcc.push_back(a);
    }
  }
  return bcc;
}

Response Undo(MailServices& mail, const ApiContext& ctx, Request& req, const accounts::Session& s) {
  const std::string id = req.params["id"];
  auto status = TimelineOf(mail, ctx, s.username, id);
  if (!status.ok()) return FromStatus(status.status());
  constexpr char kTooLate[] = "too late to undo: the message has been sent";
  if (status->queue_id().empty()) return ErrorResponse(409, kTooLate);
  auto removed = mail.queue.Withdraw(status->queue_id(), [&](const mail::pb::QueuedMessage& e) {
    if (auto owned = Owned(e, s.username, id); !owned.ok()) return owned;
    if (!e.held() || mail.queue.Now() >= e.next_attempt_micros()) {
      return absl::FailedPreconditionError(kTooLate);
    }
    return absl::OkStatus();
  });
  if (!removed.ok()) return Conflict(removed.status(), kTooLate);
  // Nothing has gone out and nothing can: the Sent copy becomes the draft again.
  auto meta = mail.store.Entry(s.username, mail::kSent, id);
  std::vector<std::string> bcc;
  if (meta.ok()) {
    if (auto source = mail.store.Source(s.username, *meta); source.ok()) {
      bcc = BccOf(*removed, *source);
    }
  }
  auto moved = mail.store.Move(s.username, id, mail::kDrafts);
  if (!moved.ok()) return FromStatus(moved.status());
  (void)mail.store.UpdateFlags(s.username, mail::kDrafts, id,
                               [](mail::MessageFlags& f) { f.draft = true; });
  json extras = {{"bcc", bcc}, {"reply_to", ""}, {"forward", ""}};
  (void)ctx.store->Put("maildraft/" + s.username, id, extras.dump());
  (void)mail::DeliveryStatusStore(*ctx.store).Remove(s.username, id);
  PC_LOG(kInfo, "mail.send_undone")("user", s.username)("id", id);
  return JsonResponse(200, {{"id", id}, {"folder", mail::kDrafts}});
}

Response GetUndoSetting(const ApiContext& ctx, const accounts::Session& s) {
  auto seconds = UndoSeconds(ctx, s.username);
  if (!seconds.ok()) return FromStatus(seconds.status());
  return JsonResponse(200, {{"seconds", *seconds}, {"max", kMaxUndoSeconds}});
}

Response PutUndoSetting(const ApiContext& ctx, Request& req, const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  auto it = body->find("seconds");
  if (it == body->end() || !it->is_number_integer() || it->get<int64_t>() < 0 ||
      it->get<int64_t>() > kMaxUndoSeconds) {
    return ErrorResponse(400, "seconds must be a whole number from 0 to 30");
  }
  int seconds = static_cast<int>(it->get<int64_t>());
  if (auto put = ctx.store->Put(ProfileRow(s.username), kUndoColumn, std::to_string(seconds));
      !put.ok()) {
    return FromStatus(put);
  }
  return JsonResponse(200, {{"seconds", seconds}, {"max", kMaxUndoSeconds}});
}

}  // namespace

absl::StatusOr<int> UndoSeconds(const ApiContext& ctx, const std::string& user) {
  auto value = ctx.store->Get(ProfileRow(user), kUndoColumn);
  if (absl::IsNotFound(value.status())) {
    return std::clamp(ctx.undo_send_default_s, 0, kMaxUndoSeconds);
  }
  if (!value.ok()) return value.status();
  int seconds = 0;
  if (!absl::SimpleAtoi(*value, &seconds)) return absl::DataLossError("bad undo setting");
  return std::clamp(seconds, 0, kMaxUndoSeconds);
}

absl::StatusOr<mail::pb::MessageMeta> SendWithTimeline(MailServices& mail, const ApiContext& ctx,
                                                       const std::string& user,
                                                       const std::vector<std::string>& recipients,
                                                       std::string_view source, int hold_seconds) {
  const std::string domain = mail.delivery.domain();
  // One entry holds the whole send, local recipients too (each account once).
  mail::pb::QueuedMessage entry;
  entry.set_sender(user + "@" + domain);
  entry.set_user(user);
  std::set<std::string> local_users;
  for (const std::string& r : recipients) {
    std::string name;
    if (!mail.delivery.IsLocal(r, &name)) {
      entry.add_recipients(r);
    } else if (local_users.insert(name).second) {
      entry.add_local_recipients(name + "@" + domain);
    }
  }
  mail::DeliveryStatusStore timelines(*ctx.store);
  return mail::Send(mail.queue, mail.store, timelines, std::move(entry), source,
                    int64_t{hold_seconds} * 1'000'000);
}

void RegisterMailDeliveryRoutes(Router& router, const ApiContext& ctx) {
  auto mail = std::make_shared<MailServices>(ctx);
  AddMailRoute(router, ctx, mail, "GET", "/api/mail/{id}/delivery", GetTimeline);
  AddMailRoute(router, ctx, mail, "POST", "/api/mail/{id}/delivery/retry", Retry);
  AddMailRoute(router, ctx, mail, "POST", "/api/mail/{id}/delivery/cancel", Cancel);
  AddMailRoute(router, ctx, mail, "POST", "/api/mail/{id}/undo", Undo);
  // Held mail is released by whoever claims it first once due: the smtp relay or any
  // frontend (mail/relay_release.h). The releaser lives as long as these routes.
  auto releaser = std::make_shared<mail::HeldMailReleaser>(
      *ctx.store, "frontend-" + std::to_string(getpid()) + "-" + mail.get()->queue.NewId());
  router.Add("GET", "/api/account/undo-send",
             WithSession(ctx, [&ctx, releaser](Request&, const accounts::Session& s) {
               return GetUndoSetting(ctx, s);
             }));
  router.Add("PUT", "/api/account/undo-send",
             WithSession(ctx, [&ctx](Request& req, const accounts::Session& s) {
               return PutUndoSetting(ctx, req, s);
             }));
}

}  // namespace penncloud::frontend
