#include "frontend/mail_api.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "frontend/mail_api_compose.h"
#include "frontend/mail_api_contacts.h"
#include "frontend/mail_api_services.h"
#include "mail/header_fields.h"
#include "mail/mime.h"
#include "mail/text.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

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

// The Reply-To header's value, unfolded, or "" if there is none.
std::string ReplyToOf(std::string_view source) {
  for (std::string_view field : mail::SplitHeader(source).fields) {
    if (!mail::EqualsIgnoreCase(mail::FieldName(field), "Reply-To")) continue;
    std::string value;
    for (char c : mail::FieldValue(field)) {
      if (c != '\r' && c != '\n') value += c;
    }
    return std::string(mail::Trim(value));
  }
  return "";
}

// A message of the user's: its entry and source.
struct Loaded {
  mail::pb::MessageMeta meta;
  std::string source;
};
absl::StatusOr<Loaded> Load(MailServices& mail, const accounts::Session& s, const std::string& id) {
  auto meta = mail.store.Find(s.username, id);
  if (!meta.ok()) return meta.status();
  auto source = mail.store.Source(s.username, *meta);
  if (!source.ok()) return source.status();
  return Loaded{std::move(*meta), std::move(*source)};
}

Response List(MailServices& mail, const ApiContext&, Request& req, const accounts::Session& s) {
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
        messages.push_back(MailSummary(m));
      }
    }
  } else {
    auto page = mail.store.List(s.username, folder, req.Query("cursor"), limit);
    if (!page.ok()) return FromStatus(page.status());
    for (const auto& m : page->messages) messages.push_back(MailSummary(m));
    next = page->next_cursor;
  }
  return MailJson(200, {{"folder", folder}, {"messages", messages}, {"next", next}});
}

// {"total","unread"} of one folder.
absl::StatusOr<json> FolderCounts(MailServices& mail, const accounts::Session& s,
                                  std::string_view folder) {
  auto all = mail.store.ListAll(s.username, folder);
  if (!all.ok()) return all.status();
  int unread = 0;
  for (const auto& m : *all) unread += m.seen() ? 0 : 1;
  return json{{"total", all->size()}, {"unread", unread}};
}

Response Counts(MailServices& mail, const ApiContext&, Request&, const accounts::Session& s) {
  json counts;
  for (std::string_view folder : mail::kSystemFolders) {
    auto folder_counts = FolderCounts(mail, s, folder);
    if (!folder_counts.ok()) return FromStatus(folder_counts.status());
    counts[std::string(folder)] = std::move(*folder_counts);
  }
  return MailJson(200, counts);
}

Response Read(MailServices& mail, const ApiContext& ctx, Request& req, const accounts::Session& s) {
  auto m = Load(mail, s, req.params["id"]);
  if (!m.ok()) return FromStatus(m.status());
  if (!m->meta.seen()) {
    // The entry just read is where it is and how it is: no second look-up.
    (void)mail.store.UpdateFlags(
        s.username, m->meta.folder(), m->meta.id(), [](mail::MessageFlags& f) { f.seen = true; },
        &m->meta);
  }
  mail::ParsedMessage parsed = mail::ParseMessage(m->source);
  json attachments = json::array();
  for (size_t i = 0; i < parsed.attachments.size(); ++i) {
    const auto& a = parsed.attachments[i];
    attachments.push_back({{"index", i},
                           {"filename", a.filename},
                           {"content_type", a.content_type},
                           {"size", a.data.size()}});
  }
  json body = MailSummary(m->meta);
  body["unread"] = false;
  body["cc"] = parsed.cc;
  body["reply_to"] = ReplyToOf(m->source);
  body["body"] = ToLf(parsed.text);
  body["html"] = parsed.html;  // the page shows it sanitized, in a sandboxed frame
  body["message_id"] = parsed.message_id;
  body["references"] = parsed.references;
  body["attachments"] = attachments;
  if (m->meta.folder() == mail::kDrafts) body.update(DraftExtras(ctx, s.username, m->meta.id()));
  return MailJson(200, body);
}

Response Attachment(MailServices& mail, const ApiContext&, Request& req,
                    const accounts::Session& s) {
  size_t n = 0;
  if (!absl::SimpleAtoi(req.params["n"], &n)) return ErrorResponse(404, "no such attachment");
  auto m = Load(mail, s, req.params["id"]);
  if (!m.ok()) return FromStatus(m.status());
  mail::ParsedMessage parsed = mail::ParseMessage(m->source);
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
Response Html(MailServices& mail, const ApiContext&, Request& req, const accounts::Session& s) {
  auto m = Load(mail, s, req.params["id"]);
  if (!m.ok()) return FromStatus(m.status());
  mail::ParsedMessage parsed = mail::ParseMessage(m->source);
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

Response Source(MailServices& mail, const ApiContext&, Request& req, const accounts::Session& s) {
  auto m = Load(mail, s, req.params["id"]);
  if (!m.ok()) return FromStatus(m.status());
  Response res;
  res.headers.Set("Content-Type", "text/plain; charset=utf-8");
  res.headers.Set("X-Content-Type-Options", "nosniff");
  res.body = std::move(m->source);
  return res;
}

Response Flags(MailServices& mail, const ApiContext&, Request& req, const accounts::Session& s) {
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
  return MailJson(
      200, {{"id", updated->id()}, {"unread", !updated->seen()}, {"flagged", updated->flagged()}});
}

Response Move(MailServices& mail, const ApiContext&, Request& req, const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::string folder = OptionalString(*body, "folder");
  if (folder.empty()) return ErrorResponse(400, "folder is required");
  auto moved = mail.store.Move(s.username, req.params["id"], folder);
  if (!moved.ok()) return FromStatus(moved.status());
  return MailJson(200, {{"id", moved->id()}, {"folder", moved->folder()}});
}

// The folder list: the system folders (with their SPECIAL-USE role), then the user's own.
Response Folders(MailServices& mail, const ApiContext&, Request&, const accounts::Session& s) {
  auto folders = mail.store.Folders(s.username);
  if (!folders.ok()) return FromStatus(folders.status());
  json out = json::array();
  for (const std::string& name : *folders) {
    auto folder = FolderCounts(mail, s, name);
    if (!folder.ok()) return FromStatus(folder.status());
    (*folder)["name"] = name;
    if (mail::IsFolder(name)) (*folder)["special"] = name;
    out.push_back(std::move(*folder));
  }
  return MailJson(200, {{"folders", out}});
}

// What a folder change answers: `answer` with `code`, or the store's error.
Response FolderChanged(const absl::Status& status, int code, const json& answer) {
  return status.ok() ? MailJson(code, answer) : FromStatus(status);
}

Response CreateFolder(MailServices& mail, const ApiContext&, Request& req,
                      const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::string name = OptionalString(*body, "name");
  return FolderChanged(mail.store.CreateFolder(s.username, name), 201, {{"name", name}});
}

Response RenameFolder(MailServices& mail, const ApiContext&, Request& req,
                      const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::string from = OptionalString(*body, "from"), to = OptionalString(*body, "to");
  return FolderChanged(mail.store.RenameFolder(s.username, from, to), 200,
                       {{"from", from}, {"to", to}});
}

Response DeleteFolder(MailServices& mail, const ApiContext&, Request& req,
                      const accounts::Session& s) {
  std::string name = req.Query("name");
  return FolderChanged(mail.store.DeleteFolder(s.username, name), 200,
                       {{"name", name}, {"deleted", true}});
}

// POST /api/mail/folders/empty {"name":"trash"|"junk"}: deletes up to kEmptyBatch messages
// for good; "more" says whether the page should ask again.
constexpr int kEmptyBatch = 500;
Response EmptyFolder(MailServices& mail, const ApiContext&, Request& req,
                     const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  std::string name = OptionalString(*body, "name");
  if (name != mail::kTrash && name != mail::kJunk) {
    return ErrorResponse(400, "only trash and junk can be emptied");
  }
  auto page = mail.store.List(s.username, name, "", kEmptyBatch);
  if (!page.ok()) return FromStatus(page.status());
  for (const auto& m : page->messages) {
    if (auto status = mail.store.Remove(s.username, m.id()); !status.ok()) {
      return FromStatus(status);
    }
  }
  return MailJson(
      200,
      {{"name", name}, {"deleted", page->messages.size()}, {"more", !page->next_cursor.empty()}});
}

Response Delete(MailServices& mail, const ApiContext&, Request& req, const accounts::Session& s) {
  auto meta = mail.store.Find(s.username, req.params["id"]);
  if (!meta.ok()) return FromStatus(meta.status());
  if (meta->folder() == mail::kTrash) {
    auto status = mail.store.Remove(s.username, meta->id());
    if (!status.ok()) return FromStatus(status);
    return MailJson(200, {{"id", meta->id()}, {"deleted", true}});
  }
  auto moved = mail.store.Move(s.username, meta->id(), mail::kTrash);
  if (!moved.ok()) return FromStatus(moved.status());
  return MailJson(200, {{"id", meta->id()}, {"folder", "trash"}});
}

}  // namespace

void RegisterMailRoutes(Router& router, const ApiContext& ctx) {
  auto mail = std::make_shared<MailServices>(ctx);
  auto add = [&](const char* method, const char* pattern, MailHandler handler) {
    AddMailRoute(router, ctx, mail, method, pattern, handler);
  };
  add("GET", "/api/mail", List);
  // The fixed paths come before /api/mail/{id}, which would match them too.
  add("GET", "/api/mail/folders", Folders);
  add("POST", "/api/mail/folders", CreateFolder);
  add("POST", "/api/mail/folders/rename", RenameFolder);
  add("POST", "/api/mail/folders/empty", EmptyFolder);
  add("DELETE", "/api/mail/folders", DeleteFolder);
  add("GET", "/api/mail/counts", Counts);
  AddComposeRoutes(router, ctx, mail);
  AddContactRoutes(router, ctx, mail);
  add("GET", "/api/mail/{id}", Read);
  add("GET", "/api/mail/{id}/attachments/{n}", Attachment);
  add("GET", "/api/mail/{id}/html", Html);
  add("GET", "/api/mail/{id}/source", Source);
  add("POST", "/api/mail/{id}/move", Move);
  add("POST", "/api/mail/{id}/flags", Flags);
  add("DELETE", "/api/mail/{id}", Delete);
}

}  // namespace penncloud::frontend
