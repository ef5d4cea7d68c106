#include "frontend/mail_api_compose.h"

#include <algorithm>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/escaping.h"
#include "frontend/mail_api_profile.h"
#include "frontend/mail_delivery_api.h"
#include "frontend/mail_drive_api.h"
#include "mail/mime.h"
#include "mail/text.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

std::string DraftRow(std::string_view user) { return "maildraft/" + std::string(user); }

// "bob" -> "bob@<domain>"; "Bob <bob@x>" -> "bob@x"; full addresses pass; anything else is
// an error. Takes an array or one comma-separated string.
absl::StatusOr<std::vector<std::string>> Addresses(const json& body, const char* key,
                                                   const std::string& domain) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  const json& list = body[key];
  std::vector<std::string> raw;
  if (list.is_string()) {
    std::string s = list.get<std::string>();
    size_t start = 0;
    while (start <= s.size()) {
      size_t comma = s.find_first_of(",;", start);
      raw.push_back(s.substr(start, comma == std::string::npos ? comma : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else if (list.is_array()) {
    for (const auto& a : list) {
      if (!a.is_string()) return absl::InvalidArgumentError(std::string(key) + ": not a string");
      raw.push_back(a.get<std::string>());
    }
  } else {
    return absl::InvalidArgumentError(std::string(key) + " must be a list of addresses");
  }
  for (std::string a : raw) {
    a = std::string(mail::Trim(a));
    if (size_t open = a.rfind('<'); open != std::string::npos && a.ends_with('>')) {
      a = a.substr(open + 1, a.size() - open - 2);
    }
    if (a.empty()) continue;
    if (a.find('@') == std::string::npos) a += "@" + domain;
    size_t at = a.find('@');
    bool control = std::any_of(a.begin(), a.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (at == 0 || at + 1 == a.size() || control || a.find_first_of(" <>\"") != std::string::npos) {
      return absl::InvalidArgumentError("bad address: " + a);
    }
    out.push_back(a);
  }
  return out;
}

// A saved draft: its entry and what its source says.
struct SavedDraft {
  mail::pb::MessageMeta meta;
  mail::ParsedMessage parsed;
};

absl::StatusOr<SavedDraft> LoadDraft(MailServices& mail, const std::string& user,
                                     const std::string& id) {
  auto meta = mail.store.Find(user, id);
  if (!meta.ok()) return meta.status();
  if (meta->folder() != mail::kDrafts) return absl::NotFoundError("no such draft");
  auto source = mail.store.Source(user, *meta);
  if (!source.ok()) return source.status();
  return SavedDraft{*meta, mail::ParseMessage(*source)};
}

json SavedExtras(const ApiContext& ctx, const std::string& user, const std::string& id) {
  auto value = ctx.store->Get(DraftRow(user), id);
  json extras = value.ok() ? json::parse(*value, nullptr, false) : json::object();
  return extras.is_object() ? extras : json::object();
}

// A saved draft's fields as a request would give them.
json FieldsOf(const ApiContext& ctx, const std::string& user, const SavedDraft& saved) {
  json fields = SavedExtras(ctx, user, saved.meta.id());
  fields["to"] = saved.parsed.to;
  fields["cc"] = saved.parsed.cc;
  fields["subject"] = saved.parsed.subject;
  fields["body"] = saved.parsed.text;
  return fields;
}

// Gone for good, with its record (best effort: a draft that is sent is sent).
void RemoveDraft(MailServices& mail, const ApiContext& ctx, const std::string& user,
                 const std::string& id) {
  (void)mail.store.Remove(user, id);
  (void)ctx.store->Delete(DraftRow(user), id);
}

struct Composed {
  mail::Draft message;
  std::vector<std::string> bcc;
  std::string reply_to, forward;  // ids of the original message
  std::vector<std::string> Recipients() const {
    std::vector<std::string> all = message.to;
    all.insert(all.end(), message.cc.begin(), message.cc.end());
    all.insert(all.end(), bcc.begin(), bcc.end());
    return all;
  }
};

absl::Status AddRequestAttachments(const json& body, mail::Draft& message) {
  if (!body.contains("attachments")) return absl::OkStatus();
  const json& list = body["attachments"];
  if (!list.is_array()) return absl::InvalidArgumentError("attachments must be a list");
  for (const json& a : list) {
    if (!a.is_object() || !a.contains("data") || !a["data"].is_string()) {
      return absl::InvalidArgumentError("each attachment needs base64 data");
    }
    mail::Attachment att;
    att.filename = OptionalString(a, "filename");
    att.content_type = OptionalString(a, "content_type");
    if (att.filename.empty()) att.filename = "attachment";
    if (!absl::Base64Unescape(a["data"].get<std::string>(), &att.data)) {
      return absl::InvalidArgumentError("attachment data is not base64");
    }
    message.attachments.push_back(std::move(att));
  }
  return absl::OkStatus();
}

absl::StatusOr<Composed> Compose(MailServices& mail, const ApiContext& ctx, const json& body,
                                 const std::string& user, const SavedDraft* saved) {
  Composed c;
  for (auto [key, list] :
       {std::pair{"to", &c.message.to}, std::pair{"cc", &c.message.cc}, std::pair{"bcc", &c.bcc}}) {
    auto addresses = Addresses(body, key, ctx.mail_domain);
    if (!addresses.ok()) return addresses.status();
    *list = std::move(*addresses);
  }
  if (c.Recipients().size() > kMaxRecipients) {
    return absl::InvalidArgumentError("too many recipients (at most 100)");
  }
  auto profile = LoadMailProfile(*ctx.store, user);
  if (!profile.ok()) return profile.status();
  c.message.from = user + "@" + ctx.mail_domain;
  c.message.from_name = std::string(mail::Trim(profile->display_name));
  c.message.subject = OptionalString(body, "subject");
  c.message.text = OptionalString(body, "body");
  c.reply_to = OptionalString(body, "reply_to");
  c.forward = OptionalString(body, "forward");
  // Replies thread under the original; forwards carry its attachments along.
  for (const std::string& original_id : {c.reply_to, c.forward}) {
    if (original_id.empty()) continue;
    auto meta = mail.store.Find(user, original_id);
    if (!meta.ok()) return absl::InvalidArgumentError("the original message does not exist");
    auto source = mail.store.Source(user, *meta);
    if (!source.ok()) return source.status();
    mail::ParsedMessage original = mail::ParseMessage(*source);
    if (original_id == c.reply_to && !original.message_id.empty()) {
      // Both come from someone else's message: re-parsed, only well-formed ids are kept.
      std::string id = mail::CleanReferences("<" + original.message_id + ">");
      std::string references = mail::CleanReferences(original.references);
      c.message.in_reply_to = id;
      c.message.references = references.empty() ? id : references + " " + id;
    }
    if (original_id == c.forward && saved == nullptr) {
      for (auto& a : original.attachments) {
        c.message.attachments.push_back(mail::Forwardable(std::move(a)));
      }
    }
  }
  if (saved != nullptr) {
    for (auto a : saved->parsed.attachments) {
      c.message.attachments.push_back(mail::Forwardable(std::move(a)));
    }
  }
  if (auto s = AddRequestAttachments(body, c.message); !s.ok()) return s;
  if (auto s = AddDriveAttachments(ctx, user, body, c.message); !s.ok()) return s;
  return c;
}

// The message's source, or the answer that refuses it.
std::variant<std::string, Response> Build(const Composed& c, const ApiContext& ctx) {
  // Every field that becomes a header is checked there (no CR, LF or NUL, a type/subtype
  // content type): a bad one is the sender's mistake, answered 400.
  auto built = mail::BuildMessage(c.message, ctx.mail_domain);
  if (!built.ok()) return ErrorResponse(400, std::string(built.status().message()));
  if (built->size() > kMaxComposedBytes) return ErrorResponse(413, "message over 32 MiB");
  return std::move(*built);
}

// Unknown local users are refused up front, as SMTP refuses them at RCPT; so are other
// domains for an account too new to send there (as SMTP's 550 5.7.1).
std::optional<Response> CheckRecipients(MailServices& mail, const ApiContext& ctx,
                                        const std::string& user,
                                        const std::vector<std::string>& recipients) {
  bool outside_checked = false;
  for (const auto& r : recipients) {
    std::string local;
    if (!mail.delivery.IsLocal(r, &local)) {
      if (outside_checked) continue;
      auto allowed = mail.delivery.MaySendOutside(user);
      if (!allowed.ok()) return FromStatus(allowed.status());
      if (!*allowed) {
        return ErrorResponse(403, "new accounts may send only within " + ctx.mail_domain +
                                      " for now; an admin can allow more");
      }
      outside_checked = true;
      continue;
    }
    auto exists = mail.delivery.LocalUserExists(local);
    if (!exists.ok()) return FromStatus(exists.status());
    if (!*exists) return ErrorResponse(400, "no such user: " + r);
  }
  return std::nullopt;
}

bool NamesFields(const json& body) {
  for (const char* key : {"to", "cc", "bcc", "subject", "body"}) {
    if (body.contains(key)) return true;
  }
  return false;
}

Response Send(MailServices& mail, const ApiContext& ctx, Request& req, const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::optional<SavedDraft> saved;
  std::string draft_id = OptionalString(*body, "draft");
  if (!draft_id.empty()) {
    auto loaded = LoadDraft(mail, s.username, draft_id);
    if (!loaded.ok()) return FromStatus(loaded.status());
    saved = std::move(*loaded);
    // Only the draft's id: send it as saved.
    if (!NamesFields(*body)) body->update(FieldsOf(ctx, s.username, *saved));
  }
  auto composed = Compose(mail, ctx, *body, s.username, saved ? &*saved : nullptr);
  if (!composed.ok()) return FromStatus(composed.status());
  std::vector<std::string> recipients = composed->Recipients();
  if (recipients.empty()) return ErrorResponse(400, "no recipients");
  if (auto refused = CheckRecipients(mail, ctx, s.username, recipients)) return *refused;
  auto source = Build(*composed, ctx);
  if (auto* refused = std::get_if<Response>(&source)) return *refused;
  // Only a client that offers an undo (webmail sends "undo": true) has its send held:
  // a plain API call is delivered at once, as it always was.
  int hold_seconds = 0;
  if (body->contains("undo")) {
    if (!(*body)["undo"].is_boolean()) return ErrorResponse(400, "undo must be true or false");
    if ((*body)["undo"].get<bool>()) {
      auto seconds = UndoSeconds(ctx, s.username);
      if (!seconds.ok()) return FromStatus(seconds.status());
      hold_seconds = *seconds;
    }
  }
  auto sent = SendWithTimeline(mail, ctx, s.username, recipients, std::get<std::string>(source),
                               hold_seconds);
  if (!sent.ok()) return FromStatus(sent.status());
  if (saved) RemoveDraft(mail, ctx, s.username, draft_id);
  return MailJson(201, MailSummary(*sent));
}

// POST /api/mail/drafts and PUT /api/mail/drafts/{id}: the new copy is stored before the
// old one goes, so a failure leaves the previous save.
Response SaveDraft(MailServices& mail, const ApiContext& ctx, Request& req,
                   const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::optional<SavedDraft> saved;
  if (req.params.contains("id")) {
    auto loaded = LoadDraft(mail, s.username, req.params["id"]);
    if (!loaded.ok()) return FromStatus(loaded.status());
    saved = std::move(*loaded);
  }
  auto composed = Compose(mail, ctx, *body, s.username, saved ? &*saved : nullptr);
  if (!composed.ok()) return FromStatus(composed.status());
  auto source = Build(*composed, ctx);
  if (auto* refused = std::get_if<Response>(&source)) return *refused;
  mail::MessageFlags flags;
  flags.seen = true;
  flags.draft = true;
  auto added = mail.store.Add(s.username, mail::kDrafts, std::get<std::string>(source), flags, 0);
  if (!added.ok()) return FromStatus(added.status());
  json extras = {
      {"bcc", composed->bcc}, {"reply_to", composed->reply_to}, {"forward", composed->forward}};
  if (auto put = ctx.store->Put(DraftRow(s.username), added->id(), extras.dump()); !put.ok()) {
    (void)mail.store.Remove(s.username, added->id());
    return FromStatus(put);
  }
  if (saved) RemoveDraft(mail, ctx, s.username, saved->meta.id());
  return MailJson(saved ? 200 : 201, {{"id", added->id()}});
}

}  // namespace

json DraftExtras(const ApiContext& ctx, const std::string& user, const std::string& id) {
  json saved = SavedExtras(ctx, user, id);
  return {{"bcc", saved.value("bcc", json::array())},
          {"draft_reply_to", saved.value("reply_to", "")},
          {"draft_forward", saved.value("forward", "")}};
}

void AddComposeRoutes(Router& router, const ApiContext& ctx,
                      const std::shared_ptr<MailServices>& mail) {
  RouteOptions big;
  big.max_body = kMaxComposedBytes * 4 / 3 + (1 << 20);  // base64 attachments inside JSON
  AddMailRoute(router, ctx, mail, "POST", "/api/mail", Send, big);
  AddMailRoute(router, ctx, mail, "POST", "/api/mail/drafts", SaveDraft, big);
  AddMailRoute(router, ctx, mail, "PUT", "/api/mail/drafts/{id}", SaveDraft, big);
}

}  // namespace penncloud::frontend
