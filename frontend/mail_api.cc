#include "frontend/mail_api.h"

#include <algorithm>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "accounts/sending_policy.h"
#include "mail/delivery.h"
#include "mail/mail_store.h"
#include "mail/mime.h"
#include "mail/outbound_queue.h"
#include "mail/text.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

// The mail services one frontend shares among its handlers.
struct MailServices {
  explicit MailServices(const ApiContext& ctx)
      : sending(ctx.store),
        store(*ctx.store),
        queue(*ctx.store),
        delivery(
            store, queue, ctx.mail_domain,
            [a = ctx.accounts](std::string_view u, std::string_view p) {
              return a->CheckPassword(u, p);
            },
            [a = ctx.accounts](std::string_view u) -> absl::StatusOr<bool> {
              auto exists = a->Exists(u);
              if (absl::IsInvalidArgument(exists.status())) return false;
              return exists;
            },
            [this](std::string_view u) { return sending.MaySendOutside(u); }) {}
  accounts::SendingPolicy sending;  // constructed first: Delivery asks it
  mail::MailStore store;
  mail::OutboundQueue queue;
  mail::Delivery delivery;
};

constexpr uint64_t kMaxSendBytes = 32 << 20;  // a composed message with attachments

// Like JsonResponse, but mail text may hold invalid UTF-8: it is replaced, not fatal.
Response Json(int status, const json& body) {
  Response res;
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  res.headers.Set("Cache-Control", "no-store");
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return res;
}

json Summary(const mail::pb::MessageMeta& m) {
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

// Browsers want "\n" line ends in text.
std::string ToLf(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

bool Matches(const mail::pb::MessageMeta& m, const std::string& needle) {
  return mail::ToLower(m.from()).find(needle) != std::string::npos ||
         mail::ToLower(m.subject()).find(needle) != std::string::npos;
}

// "bob" -> "bob@<domain>"; full addresses pass; anything else is an error.
absl::StatusOr<std::vector<std::string>> Addresses(const json& body, const char* key,
                                                   const std::string& domain) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  const json& list = body[key];
  std::vector<std::string> raw;
  if (list.is_string()) {
    // "a@x, b@y" is accepted as well as an array.
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
    std::string_view t = mail::Trim(a);
    a = std::string(t);
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

std::string OptionalString(const json& body, const char* key) {
  return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : "";
}

Response List(MailServices& mail, Request& req, const accounts::Session& s) {
  std::string folder = req.Query("folder", "inbox");
  if (!mail.store.FolderExists(s.username, folder)) {
    return ErrorResponse(400, "no such folder (inbox, sent, drafts, trash, junk or your own)");
  }
  int limit = 50;
  if (!req.Query("limit").empty() &&
      (!absl::SimpleAtoi(req.Query("limit"), &limit) || limit < 1 || limit > 500)) {
    return ErrorResponse(400, "limit must be 1..500");
  }
  json messages = json::array();
  std::string next;
  std::string q = mail::ToLower(req.Query("q"));
  if (!q.empty()) {
    auto all = mail.store.ListAll(s.username, folder);
    if (!all.ok()) return FromStatus(all.status());
    for (const auto& m : *all) {
      if (Matches(m, q) && static_cast<int>(messages.size()) < limit) {
        messages.push_back(Summary(m));
      }
    }
  } else {
    auto page = mail.store.List(s.username, folder, req.Query("cursor"), limit);
    if (!page.ok()) return FromStatus(page.status());
    for (const auto& m : page->messages) messages.push_back(Summary(m));
    next = page->next_cursor;
  }
  return Json(200, {{"folder", folder}, {"messages", messages}, {"next", next}});
}

Response Counts(MailServices& mail, const accounts::Session& s) {
  json counts;
  for (std::string_view folder : mail::kSystemFolders) {
    auto all = mail.store.ListAll(s.username, folder);
    if (!all.ok()) return FromStatus(all.status());
    int unread = 0;
    for (const auto& m : *all) unread += m.seen() ? 0 : 1;
    counts[std::string(folder)] = {{"total", all->size()}, {"unread", unread}};
  }
  return Json(200, counts);
}

Response Read(MailServices& mail, Request& req, const accounts::Session& s) {
  auto meta = mail.store.Find(s.username, req.params["id"]);
  if (!meta.ok()) return FromStatus(meta.status());
  auto source = mail.store.Source(s.username, *meta);
  if (!source.ok()) return FromStatus(source.status());
  if (!meta->seen()) (void)mail.store.SetSeen(s.username, meta->id(), true);
  mail::ParsedMessage parsed = mail::ParseMessage(*source);
  json attachments = json::array();
  for (size_t i = 0; i < parsed.attachments.size(); ++i) {
    const auto& a = parsed.attachments[i];
    attachments.push_back({{"index", i},
                           {"filename", a.filename},
                           {"content_type", a.content_type},
                           {"size", a.data.size()}});
  }
  json body = Summary(*meta);
  body["unread"] = false;
  body["cc"] = parsed.cc;
  body["body"] = ToLf(parsed.text);
  body["html"] = parsed.html;  // the page shows it sanitized, in a sandboxed frame
  body["message_id"] = parsed.message_id;
  body["references"] = parsed.references;
  body["attachments"] = attachments;
  return Json(200, body);
}

Response Attachment(MailServices& mail, Request& req, const accounts::Session& s) {
  auto meta = mail.store.Find(s.username, req.params["id"]);
  if (!meta.ok()) return FromStatus(meta.status());
  size_t n = 0;
  if (!absl::SimpleAtoi(req.params["n"], &n)) return ErrorResponse(404, "no such attachment");
  auto source = mail.store.Source(s.username, *meta);
  if (!source.ok()) return FromStatus(source.status());
  mail::ParsedMessage parsed = mail::ParseMessage(*source);
  if (n >= parsed.attachments.size()) return ErrorResponse(404, "no such attachment");
  mail::Attachment& a = parsed.attachments[n];
  Response res;
  // Always a download, never rendered in our origin: an attachment is untrusted content.
  res.headers.Set("Content-Type", "application/octet-stream");
  std::string name;
  for (char c : a.filename) name += (c == '"' || c == '\\' || c < 0x20) ? '_' : c;
  res.headers.Set("Content-Disposition", "attachment; filename=\"" + name +
                                             "\"; filename*=UTF-8''" + PercentEncode(a.filename));
  res.headers.Set("X-Content-Type-Options", "nosniff");
  res.headers.Set("X-Original-Content-Type", a.content_type);
  res.body = std::move(a.data);
  return res;
}

// The HTML body as its own document, for the page's sandboxed <iframe>. The CSP header does
// the sanitizing that matters: a sandbox without scripts, nothing fetched from anywhere
// (images only from data: URLs) unless the reader asked for remote images.
Response Html(MailServices& mail, Request& req, const accounts::Session& s) {
  auto meta = mail.store.Find(s.username, req.params["id"]);
  if (!meta.ok()) return FromStatus(meta.status());
  auto source = mail.store.Source(s.username, *meta);
  if (!source.ok()) return FromStatus(source.status());
  mail::ParsedMessage parsed = mail::ParseMessage(*source);
  bool images = req.Query("images") == "1";
  Response res;
  res.headers.Set("Content-Type", "text/html; charset=utf-8");
  res.headers.Set("Content-Security-Policy",
                  std::string("sandbox allow-popups allow-popups-to-escape-sandbox; "
                              "default-src 'none'; style-src 'unsafe-inline'; img-src data:") +
                      (images ? " https: http:" : "") + "; form-action 'none'; base-uri 'none'");
  res.headers.Set("X-Content-Type-Options", "nosniff");
  res.headers.Set("Referrer-Policy", "no-referrer");
  res.headers.Set("Cache-Control", "no-store");
  res.body = "<!doctype html><meta charset=\"utf-8\"><base target=\"_blank\">" + parsed.html;
  return res;
}

Response Source(MailServices& mail, Request& req, const accounts::Session& s) {
  auto meta = mail.store.Find(s.username, req.params["id"]);
  if (!meta.ok()) return FromStatus(meta.status());
  auto source = mail.store.Source(s.username, *meta);
  if (!source.ok()) return FromStatus(source.status());
  Response res;
  res.headers.Set("Content-Type", "text/plain; charset=utf-8");
  res.headers.Set("X-Content-Type-Options", "nosniff");
  res.body = std::move(*source);
  return res;
}

Response Send(MailServices& mail, const ApiContext& ctx, Request& req, const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  auto to = Addresses(*body, "to", ctx.mail_domain);
  if (!to.ok()) return FromStatus(to.status());
  auto cc = Addresses(*body, "cc", ctx.mail_domain);
  if (!cc.ok()) return FromStatus(cc.status());
  if (to->empty() && cc->empty()) return ErrorResponse(400, "no recipients");
  if (to->size() + cc->size() > 100) return ErrorResponse(400, "too many recipients");

  mail::Draft draft;
  draft.from = s.username + "@" + ctx.mail_domain;
  draft.to = *to;
  draft.cc = *cc;
  draft.subject = OptionalString(*body, "subject");
  draft.text = OptionalString(*body, "body");
  // Replies thread under the original; forwards carry its attachments along.
  std::string reply_to = OptionalString(*body, "reply_to");
  std::string forward = OptionalString(*body, "forward");
  for (const std::string& original_id : {reply_to, forward}) {
    if (original_id.empty()) continue;
    auto meta = mail.store.Find(s.username, original_id);
    if (!meta.ok()) return ErrorResponse(400, "the original message does not exist");
    auto source = mail.store.Source(s.username, *meta);
    if (!source.ok()) return FromStatus(source.status());
    mail::ParsedMessage original = mail::ParseMessage(*source);
    if (original_id == reply_to && !original.message_id.empty()) {
      // Both come from someone else's message: re-parsed, only well-formed ids are kept.
      std::string id = mail::CleanReferences("<" + original.message_id + ">");
      std::string references = mail::CleanReferences(original.references);
      draft.in_reply_to = id;
      draft.references = references.empty() ? id : references + " " + id;
    }
    if (original_id == forward) {
      for (auto& a : original.attachments) {
        draft.attachments.push_back(mail::Forwardable(std::move(a)));
      }
    }
  }
  if (body->contains("attachments")) {
    const json& list = (*body)["attachments"];
    if (!list.is_array()) return ErrorResponse(400, "attachments must be a list");
    for (const json& a : list) {
      if (!a.is_object() || !a.contains("data") || !a["data"].is_string()) {
        return ErrorResponse(400, "each attachment needs base64 data");
      }
      mail::Attachment att;
      att.filename = OptionalString(a, "filename");
      att.content_type = OptionalString(a, "content_type");
      if (att.filename.empty()) att.filename = "attachment";
      if (!absl::Base64Unescape(a["data"].get<std::string>(), &att.data)) {
        return ErrorResponse(400, "attachment data is not base64");
      }
      draft.attachments.push_back(std::move(att));
    }
  }
  // Every field that becomes a header is checked there (no CR, LF or NUL, a type/subtype
  // content type): a bad one is the sender's mistake, answered 400.
  auto built = mail::BuildMessage(draft, ctx.mail_domain);
  if (!built.ok()) return ErrorResponse(400, std::string(built.status().message()));
  std::string source = std::move(*built);
  std::vector<std::string> recipients = *to;
  recipients.insert(recipients.end(), cc->begin(), cc->end());
  // Unknown local users are refused up front, as SMTP refuses them at RCPT; so are other
  // domains for an account too new to send there (as SMTP's 550 5.7.1).
  bool outside_checked = false;
  for (const auto& r : recipients) {
    std::string user;
    if (!mail.delivery.IsLocal(r, &user)) {
      if (outside_checked) continue;
      auto allowed = mail.delivery.MaySendOutside(s.username);
      if (!allowed.ok()) return FromStatus(allowed.status());
      if (!*allowed) {
        return ErrorResponse(403, "new accounts may send only within " + ctx.mail_domain +
                                      " for now; an admin can allow more");
      }
      outside_checked = true;
      continue;
    }
    auto exists = mail.delivery.LocalUserExists(user);
    if (!exists.ok()) return FromStatus(exists.status());
    if (!*exists) return ErrorResponse(400, "no such user: " + r);
  }
  auto sent = mail.delivery.SendAs(s.username, recipients, source);
  if (!sent.ok()) return FromStatus(sent.status());
  return Json(201, Summary(*sent));
}

Response Flags(MailServices& mail, Request& req, const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  bool has_unread = body->contains("unread"), has_flagged = body->contains("flagged");
  if ((has_unread && !(*body)["unread"].is_boolean()) ||
      (has_flagged && !(*body)["flagged"].is_boolean()) || (!has_unread && !has_flagged)) {
    return ErrorResponse(400, "unread and flagged must be true or false (one at least)");
  }
  auto meta = mail.store.Find(s.username, req.params["id"]);
  if (!meta.ok()) return FromStatus(meta.status());
  auto updated =
      mail.store.UpdateFlags(s.username, meta->folder(), meta->id(), [&](mail::MessageFlags& f) {
        if (has_unread) f.seen = !(*body)["unread"].get<bool>();
        if (has_flagged) f.flagged = (*body)["flagged"].get<bool>();
      });
  if (!updated.ok()) return FromStatus(updated.status());
  return Json(
      200, {{"id", updated->id()}, {"unread", !updated->seen()}, {"flagged", updated->flagged()}});
}

Response Move(MailServices& mail, Request& req, const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::string folder = OptionalString(*body, "folder");
  if (folder.empty()) return ErrorResponse(400, "folder is required");
  auto moved = mail.store.Move(s.username, req.params["id"], folder);
  if (!moved.ok()) return FromStatus(moved.status());
  return Json(200, {{"id", moved->id()}, {"folder", moved->folder()}});
}

// The folder list: the system folders (with their SPECIAL-USE role), then the user's own.
Response Folders(MailServices& mail, const accounts::Session& s) {
  auto folders = mail.store.Folders(s.username);
  if (!folders.ok()) return FromStatus(folders.status());
  json out = json::array();
  for (const std::string& name : *folders) {
    auto all = mail.store.ListAll(s.username, name);
    if (!all.ok()) return FromStatus(all.status());
    int unread = 0;
    for (const auto& m : *all) unread += m.seen() ? 0 : 1;
    json folder = {{"name", name}, {"total", all->size()}, {"unread", unread}};
    if (mail::IsFolder(name)) folder["special"] = name;
    out.push_back(std::move(folder));
  }
  return Json(200, {{"folders", out}});
}

Response CreateFolder(MailServices& mail, Request& req, const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::string name = OptionalString(*body, "name");
  if (auto status = mail.store.CreateFolder(s.username, name); !status.ok()) {
    return FromStatus(status);
  }
  return Json(201, {{"name", name}});
}

Response RenameFolder(MailServices& mail, Request& req, const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::string from = OptionalString(*body, "from"), to = OptionalString(*body, "to");
  if (auto status = mail.store.RenameFolder(s.username, from, to); !status.ok()) {
    return FromStatus(status);
  }
  return Json(200, {{"from", from}, {"to", to}});
}

Response DeleteFolder(MailServices& mail, Request& req, const accounts::Session& s) {
  std::string name = req.Query("name");
  if (auto status = mail.store.DeleteFolder(s.username, name); !status.ok()) {
    return FromStatus(status);
  }
  return Json(200, {{"name", name}, {"deleted", true}});
}

Response Delete(MailServices& mail, Request& req, const accounts::Session& s) {
  auto meta = mail.store.Find(s.username, req.params["id"]);
  if (!meta.ok()) return FromStatus(meta.status());
  if (meta->folder() == mail::kTrash) {
    auto status = mail.store.Remove(s.username, meta->id());
    if (!status.ok()) return FromStatus(status);
    return Json(200, {{"id", meta->id()}, {"deleted", true}});
  }
  auto moved = mail.store.Move(s.username, meta->id(), mail::kTrash);
  if (!moved.ok()) return FromStatus(moved.status());
  return Json(200, {{"id", meta->id()}, {"folder", "trash"}});
}

}  // namespace

void RegisterMailRoutes(Router& router, const ApiContext& ctx) {
  auto mail = std::make_shared<MailServices>(ctx);
  router.Add("GET", "/api/mail", WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return List(*mail, r, s);
             }));
  // The folder routes come before /api/mail/{id}, which would match "folders" too.
  router.Add(
      "GET", "/api/mail/folders",
      WithSession(ctx, [mail](Request&, const accounts::Session& s) { return Folders(*mail, s); }));
  router.Add("POST", "/api/mail/folders",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return CreateFolder(*mail, r, s);
             }));
  router.Add("POST", "/api/mail/folders/rename",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return RenameFolder(*mail, r, s);
             }));
  router.Add("DELETE", "/api/mail/folders",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return DeleteFolder(*mail, r, s);
             }));
  router.Add("POST", "/api/mail/{id}/move",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return Move(*mail, r, s);
             }));
  router.Add(
      "GET", "/api/mail/counts",
      WithSession(ctx, [mail](Request&, const accounts::Session& s) { return Counts(*mail, s); }));
  router.Add("GET", "/api/mail/{id}",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return Read(*mail, r, s);
             }));
  router.Add("GET", "/api/mail/{id}/attachments/{n}",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return Attachment(*mail, r, s);
             }));
  router.Add("GET", "/api/mail/{id}/html",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return Html(*mail, r, s);
             }));
  router.Add("GET", "/api/mail/{id}/source",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return Source(*mail, r, s);
             }));
  RouteOptions big;
  big.max_body = kMaxSendBytes * 4 / 3 + (1 << 20);  // base64 attachments inside JSON
  router.Add(
      "POST", "/api/mail",
      WithSession(ctx, [mail, &ctx](Request& r,
                                    const accounts::Session& s) { return Send(*mail, ctx, r, s); }),
      big);
  router.Add("POST", "/api/mail/{id}/flags",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return Flags(*mail, r, s);
             }));
  router.Add("DELETE", "/api/mail/{id}",
             WithSession(ctx, [mail](Request& r, const accounts::Session& s) {
               return Delete(*mail, r, s);
             }));
}

}  // namespace penncloud::frontend
