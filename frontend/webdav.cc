#include "frontend/webdav.h"

#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "drive/locks.h"
#include "drive/path.h"
#include "frontend/drive_api.h"
#include "frontend/share_api.h"
#include "frontend/webdav_if.h"
#include "frontend/webdav_xml.h"

namespace penncloud::frontend {
namespace {

constexpr std::string_view kDav = "DAV:";
constexpr std::string_view kPrefix = "/dav";
constexpr size_t kMaxXmlBody = 1 << 20;
// A Depth: infinity PROPFIND answers for at most this many resources; a bigger tree gets
// 403 with DAV:propfind-finite-depth (RFC 4918 9.1) and the client walks it by Depth 1.
constexpr size_t kMaxPropfindResources = 10000;
constexpr int64_t kDefaultLockSeconds = 3600;

// Verified Basic credentials, by SHA-256 of the Authorization header, so that a WebDAV
// client's every request does not cost an Argon2 check (~35 ms of CPU). An entry records
// what the credentials matched (the stored web-password hash, or an app password's id) and
// serves only while Accounts::ProtocolLoginHolds says it still would: a password change, a
// revoked app password or two-factor sign-in turned on stops it at once on every frontend,
// for one store read per request (accounts/accounts.h).
class CredentialCache {
 public:
  std::optional<accounts::ProtocolLogin> Find(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void Remember(const std::string& key, accounts::ProtocolLogin entry) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[key] = std::move(entry);
  }
  void Forget(const std::string& key) {
    std::lock_guard lock(mu_);
    entries_.erase(key);
  }

 private:
  static constexpr size_t kMaxEntries = 10000;
  std::mutex mu_;
  std::unordered_map<std::string, accounts::ProtocolLogin> entries_;  // GUARDED_BY(mu_)
};

Response Unauthorized() {
  Response res = ErrorResponse(401, "authentication required");
  res.headers.Set("WWW-Authenticate", "Basic realm=\"PennCloud\", charset=\"UTF-8\"");
  return res;
}

Response Plain(int status) {
  Response res;
  res.status = status;
  return res;
}

std::string IsoTime(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

// "/dav" + each segment percent-encoded; folders end in '/'.
std::string Href(const std::vector<std::string>& parts, bool folder) {
  std::string out(kPrefix);
  for (const auto& p : parts) absl::StrAppend(&out, "/", PercentEncode(p));
  if (folder) out += "/";
  return out;
}

// The drive path named by a Destination header (absolute URI or absolute path).
absl::StatusOr<std::string> DestinationPath(std::string_view header) {
  std::string_view d = header;
  size_t scheme = d.find("://");
  if (scheme != std::string_view::npos) {
    size_t slash = d.find('/', scheme + 3);
    d = slash == std::string_view::npos ? std::string_view("/") : d.substr(slash);
  }
  size_t q = d.find_first_of("?#");
  if (q != std::string_view::npos) d = d.substr(0, q);
  std::string decoded = PercentDecode(d, false);
  if (decoded != kPrefix && !decoded.starts_with(absl::StrCat(std::string(kPrefix), "/"))) {
    return absl::PermissionDeniedError("destination is outside the WebDAV tree");
  }
  return decoded.substr(kPrefix.size());
}

// A status line inside a multistatus body.
std::string StatusLine(int code) {
  const char* text = code == 200   ? "OK"
                     : code == 403 ? "Forbidden"
                     : code == 404 ? "Not Found"
                     : code == 423 ? "Locked"
                     : code == 424 ? "Failed Dependency"
                                   : "Error";
  return absl::StrCat("HTTP/1.1 ", code, " ", text);
}

Response Multistatus(const std::string& responses) {
  Response res;
  res.status = 207;
  res.headers.Set("Content-Type", "application/xml; charset=utf-8");
  res.body = absl::StrCat("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
                          "<D:multistatus xmlns:D=\"DAV:\">", responses, "</D:multistatus>\n");
  return res;
}

struct PropName {
  std::string ns, name;
};

// Live properties we compute, in DAV:.
const std::vector<std::string>& LiveNames(bool folder) {
  static const std::vector<std::string> kFolder = {
      "resourcetype",          "displayname",      "creationdate",  "getlastmodified",
      "quota-available-bytes", "quota-used-bytes", "supportedlock", "lockdiscovery"};
  static const std::vector<std::string> kFile = {
      "resourcetype",   "displayname", "creationdate",  "getlastmodified", "getcontentlength",
      "getcontenttype", "getetag",     "supportedlock", "lockdiscovery"};
  return folder ? kFolder : kFile;
}

// What live properties need beyond the entry: the user's quota (RFC 4331, on folders of
// their own drive; null elsewhere, since a share's owner's usage is not theirs to see) and
// the locks on the resource.
struct LiveContext {
  const drive::Usage* usage = nullptr;
  std::vector<drive::LockInfo> locks;
};

std::string ActiveLockXml(const drive::LockInfo& l) {
  auto split = drive::SplitPath(l.path);
  std::string root = Href(split.ok() ? *split : std::vector<std::string>{}, false);
  return absl::StrCat(
      "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>",
      l.shared ? "<D:shared/>" : "<D:exclusive/>", "</D:lockscope><D:depth>",
      l.infinite ? "infinity" : "0", "</D:depth>",
      l.owner_xml.empty() ? "" : absl::StrCat("<D:owner>", l.owner_xml, "</D:owner>"),
      "<D:timeout>", l.timeout_s == 0 ? "Infinite" : absl::StrCat("Second-", l.timeout_s),
      "</D:timeout><D:locktoken><D:href>", dav::XmlEscape(l.token),
      "</D:href></D:locktoken><D:lockroot><D:href>", dav::XmlEscape(root),
      "</D:href></D:lockroot></D:activelock>");
}

// The inner XML of a live property, or nullopt if `e` does not have it.
std::optional<std::string> LiveValue(const drive::EntryInfo& e, const std::string& name,
                                     const LiveContext& live) {
  if (name == "supportedlock") {
    return std::string(
        "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
        "</D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/>"
        "</D:locktype></D:lockentry>");
  }
  if (name == "lockdiscovery") {
    std::string out;
    for (const auto& l : live.locks) out += ActiveLockXml(l);
    return out;
  }
  if (e.folder && live.usage && name == "quota-used-bytes") {
    return std::to_string(live.usage->used_bytes);
  }
  if (e.folder && live.usage && name == "quota-available-bytes") {
    const drive::Usage& u = *live.usage;
    return std::to_string(u.quota_bytes > u.used_bytes ? u.quota_bytes - u.used_bytes : 0);
  }
  if (name == "resourcetype") return e.folder ? std::string("<D:collection/>") : std::string();
  if (name == "displayname") return dav::XmlEscape(e.name);
  if (name == "creationdate") return IsoTime(e.created_ms);
  if (name == "getlastmodified") return HttpDate(e.modified_ms);
  if (e.folder) return std::nullopt;
  if (name == "getcontentlength") return std::to_string(e.size);
  if (name == "getcontenttype") return dav::XmlEscape(e.content_type);
  if (name == "getetag") return dav::XmlEscape(QuotedEtag(e.etag));
  return std::nullopt;
}

std::string DeadKey(std::string_view ns, std::string_view name) {
  return absl::StrCat("{", std::string(ns), "}", std::string(name));
}

void SplitDeadKey(const std::string& key, std::string* ns, std::string* name) {
  size_t close = key.find('}');
  *ns = key.substr(1, close - 1);
  *name = key.substr(close + 1);
}

enum class PropfindKind { kAll, kNames, kSome };

// One <D:response> for PROPFIND.
std::string PropResponse(const std::string& href, const drive::EntryInfo& e, PropfindKind kind,
                         const std::vector<PropName>& wanted, const LiveContext& context) {
  std::string found, missing;
  auto live = [&](const std::string& name, bool names_only) {
    auto v = LiveValue(e, name, context);
    if (!v) return false;
    found += names_only || v->empty() ? absl::StrCat("<D:", name, "/>")
                                      : absl::StrCat("<D:", name, ">", *v, "</D:", name, ">");
    return true;
  };
  if (kind == PropfindKind::kAll || kind == PropfindKind::kNames) {
    bool names = kind == PropfindKind::kNames;
    for (const auto& n : LiveNames(e.folder)) live(n, names);
    for (const auto& [key, value] : e.dead_props) {
      std::string ns, name;
      SplitDeadKey(key, &ns, &name);
      found += dav::ElementXml(ns, name, names ? "" : value);
    }
  } else {
    for (const auto& p : wanted) {
      if (p.ns == kDav && live(p.name, false)) continue;
      auto it = e.dead_props.find(DeadKey(p.ns, p.name));
      if (it != e.dead_props.end()) {
        found += dav::ElementXml(p.ns, p.name, it->second);
      } else {
        missing += dav::ElementXml(p.ns, p.name, "");
      }
    }
  }
  std::string out = absl::StrCat("<D:response><D:href>", dav::XmlEscape(href), "</D:href>");
  if (!found.empty() || missing.empty()) {
    absl::StrAppend(&out, "<D:propstat><D:prop>", found, "</D:prop><D:status>", StatusLine(200),
                    "</D:status></D:propstat>");
  }
  if (!missing.empty()) {
    absl::StrAppend(&out, "<D:propstat><D:prop>", missing, "</D:prop><D:status>", StatusLine(404),
                    "</D:status></D:propstat>");
  }
  return absl::StrCat(out, "</D:response>");
}

// The locks of `all` that cover `path`: on it, or on a folder above it with Depth infinity;
// with `below` also those on anything under it (what a DELETE or MOVE of a folder touches).
std::vector<drive::LockInfo> LocksOn(const std::vector<drive::LockInfo>& all,
                                     const std::string& path, bool below = false) {
  std::vector<drive::LockInfo> out;
  for (const auto& l : all) {
    if (l.path == path || (l.infinite && drive::PathWithin(path, l.path)) ||
        (below && drive::PathWithin(l.path, path))) {
      out.push_back(l);
    }
  }
  return out;
}

// The Timeout header's first usable value in seconds (0 = infinite).
int64_t LockSeconds(std::string_view header) {
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(header.data(), header.size()), ',')) {
    std::string v(absl::StripAsciiWhitespace(part));
    int64_t n = 0;
    if (v == "Infinite") return 0;
    if (v.starts_with("Second-") && absl::SimpleAtoi(v.substr(7), &n) && n > 0) return n;
  }
  return kDefaultLockSeconds;
}

// "/a/b" as SplitPath normalises it.
std::string Normal(const std::string& path) {
  auto parts = drive::SplitPath(path);
  return parts.ok() ? drive::JoinPath(*parts) : path;
}

// Reads a small XML request body (PROPFIND, PROPPATCH). "" if there is none.
absl::StatusOr<std::string> SmallBody(Request& req) {
  if (req.body_reader == nullptr) return req.body;
  auto body = req.body_reader->ReadFull(kMaxXmlBody + 1);
  if (!body.ok()) return body.status();
  if (body->size() > kMaxXmlBody) return absl::ResourceExhaustedError("request body too large");
  return body;
}

class WebDav {
 public:
  WebDav(const ApiContext& ctx, std::shared_ptr<drive::Drive> drive)
      : ctx_(ctx), drive_(std::move(drive)), locks_(ctx.store) {}

  Response Handle(Request& req) {
    auto user = Authenticate(req);
    if (!user.ok()) {
      if (absl::IsResourceExhausted(user.status())) return FromStatus(user.status());
      if (absl::IsUnavailable(user.status())) return FromStatus(user.status());
      return Unauthorized();
    }
    std::string path = absl::StrCat("/", req.params["*"]);
    const std::string& m = req.method;
    if (m == "OPTIONS") return Options();
    if (m == "GET" || m == "HEAD") return Get(*user, path, req);
    if (m == "LOCK") return Lock(*user, path, req);
    if (m == "UNLOCK") return Unlock(*user, path, req);
    if (m == "PUT" || m == "DELETE" || m == "MKCOL" || m == "COPY" || m == "MOVE" ||
        m == "PROPPATCH") {
      // What each method changes: the path itself, and for DELETE and MOVE everything
      // under it; COPY and MOVE also their destination.
      std::vector<std::pair<std::string, bool>> changed;
      if (m != "COPY") changed.emplace_back(Normal(path), m == "DELETE" || m == "MOVE");
      if ((m == "COPY" || m == "MOVE") && req.headers.Has("Destination")) {
        auto dest = DestinationPath(req.headers.Get("Destination"));
        if (dest.ok()) changed.emplace_back(Normal(*dest), true);
      }
      if (auto refused = CheckLocks(*user, path, req, changed)) return *refused;
    }
    if (m == "PUT") return Put(*user, path, req);
    if (m == "DELETE") return Delete(*user, path);
    if (m == "MKCOL") return Mkcol(*user, path, req);
    if (m == "COPY" || m == "MOVE") return CopyMove(*user, path, req, m == "MOVE");
    if (m == "PROPFIND") return Propfind(*user, path, req);
    if (m == "PROPPATCH") return Proppatch(*user, path, req);
    Response res = ErrorResponse(405, "method not allowed");
    res.headers.Set("Allow", kAllow);
    return res;
  }

 private:
  static constexpr const char* kAllow =
      "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";

  // The If header (412 if no list of it holds) and the locks on what the request changes
  // (423 unless the client submitted the token of one of them). nullopt: go ahead.
  std::optional<Response> CheckLocks(const std::string& user, const std::string& path,
                                     const Request& req,
                                     const std::vector<std::pair<std::string, bool>>& changed) {
    auto all = locks_.Covering(user, "/", /*below=*/true);
    if (!all.ok()) return DriveError(all.status());
    std::vector<std::string> submitted;
    if (req.headers.Has("If")) {
      auto lists = dav::ParseIfHeader(req.headers.Get("If"));
      if (!lists.ok()) return ErrorResponse(400, std::string(lists.status().message()));
      if (!AnyListHolds(user, path, *lists, *all)) {
        return ErrorResponse(412, "the If header's conditions do not hold");
      }
      submitted = dav::SubmittedTokens(*lists);
    }
    for (const auto& [target, below] : changed) {
      auto on = LocksOn(*all, target, below);
      if (on.empty()) continue;
      bool held = std::any_of(on.begin(), on.end(), [&](const drive::LockInfo& l) {
        return std::find(submitted.begin(), submitted.end(), l.token) != submitted.end();
      });
      if (!held) {
        Response res = ErrorResponse(423, "locked");
        return res;
      }
    }
    return std::nullopt;
  }

  bool AnyListHolds(const std::string& user, const std::string& path,
                    const std::vector<dav::IfList>& lists,
                    const std::vector<drive::LockInfo>& all) {
    for (const auto& list : lists) {
      std::string resource = path;
      if (!list.tag.empty()) {
        auto tagged = DestinationPath(list.tag);
        if (!tagged.ok()) continue;
        resource = *tagged;
      }
      resource = Normal(resource);
      auto on = LocksOn(all, resource);
      auto info = StatAt(user, resource);
      bool holds = true;
      for (const auto& c : list.conditions) {
        bool truth;
        if (c.is_etag) {
          truth = info.ok() && !info->folder && c.value == QuotedEtag(info->etag);
        } else {
          truth = std::any_of(on.begin(), on.end(),
                              [&](const drive::LockInfo& l) { return l.token == c.value; });
        }
        if (truth == c.negated) {
          holds = false;
          break;
        }
      }
      if (holds) return true;
    }
    return false;
  }

  static Response LockDiscovery(int status, const drive::LockInfo& lock) {
    Response res = Plain(status);
    res.headers.Set("Content-Type", "application/xml; charset=utf-8");
    res.body = absl::StrCat(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>",
        ActiveLockXml(lock), "</D:lockdiscovery></D:prop>\n");
    return res;
  }

  Response Lock(const std::string& user, const std::string& path, Request& req) {
    auto body = SmallBody(req);
    if (!body.ok()) return DriveError(body.status());
    std::string at = Normal(path);
    if (auto s = drive::SplitPath(path); !s.ok()) return DriveError(s.status());
    // A lock is the intent to write: not in a read share. Locks under "Shared with me" are
    // kept, like all, in the locking user's table, by the path as they see it.
    auto place = ResolvePlace(ctx_, user, path, PlaceUse::kWrite);
    if (!place.ok()) return DriveError(place.status());
    int64_t seconds = LockSeconds(req.headers.Get("Timeout"));
    auto all = locks_.Covering(user, "/", /*below=*/true);
    if (!all.ok()) return DriveError(all.status());
    if (body->empty()) {  // a refresh names its lock in the If header
      auto lists = dav::ParseIfHeader(req.headers.Get("If"));
      if (!lists.ok())
        return ErrorResponse(400, "a lock refresh needs an If header with its token");
      for (const auto& token : dav::SubmittedTokens(*lists)) {
        for (const auto& l : LocksOn(*all, at)) {
          if (l.token != token) continue;
          auto refreshed = locks_.Refresh(user, token, seconds);
          if (!refreshed.ok()) return DriveError(refreshed.status());
          return LockDiscovery(200, *refreshed);
        }
      }
      return ErrorResponse(412, "no lock on this resource has the token given");
    }
    auto doc = dav::ParseXml(*body);
    if (!doc.ok()) return ErrorResponse(400, std::string(doc.status().message()));
    if (!doc->Is(kDav, "lockinfo")) return ErrorResponse(400, "expected DAV:lockinfo");
    const auto* scope = doc->Child(kDav, "lockscope");
    if (scope == nullptr) return ErrorResponse(400, "lockscope missing");
    drive::LockInfo want;
    want.path = at;
    want.shared = scope->Child(kDav, "shared") != nullptr;
    want.timeout_s = seconds;
    std::string depth(req.headers.Get("Depth"));
    if (!depth.empty() && depth != "0" && depth != "infinity") {
      return ErrorResponse(400, "Depth must be 0 or infinity");
    }
    want.infinite = depth != "0";
    if (const auto* owner = doc->Child(kDav, "owner")) want.owner_xml = owner->inner_xml;
    if (req.headers.Has("If")) {
      if (auto refused = CheckLocks(user, path, req, {}); refused) return *refused;
    }
    auto granted = locks_.Lock(user, want);
    if (absl::IsFailedPrecondition(granted.status())) return ErrorResponse(423, "locked");
    if (!granted.ok()) return DriveError(granted.status());
    // Locking an unmapped URL makes an empty file there (RFC 4918 7.3).
    auto info = drive_->Stat(place->owner, place->path);
    bool created = false;
    if (absl::IsNotFound(info.status())) {
      drive::UploadOptions empty_file;
      empty_file.if_none_match = true;
      auto upload = drive_->BeginUpload(place->owner, place->path, empty_file);
      absl::Status made = upload.ok() ? (*upload)->Commit().status() : upload.status();
      if (!made.ok() && !drive::IsConditionFailed(made)) {
        (void)locks_.Unlock(user, granted->token);
        if (absl::IsNotFound(made)) return ErrorResponse(409, "no parent folder");
        return DriveError(place->Seen(made));
      }
      created = made.ok();
    } else if (!info.ok()) {
      (void)locks_.Unlock(user, granted->token);
      return DriveError(place->Seen(info.status()));
    }
    Response res = LockDiscovery(created ? 201 : 200, *granted);
    res.headers.Set("Lock-Token", absl::StrCat("<", granted->token, ">"));
    return res;
  }

  Response Unlock(const std::string& user, const std::string& path, const Request& req) {
    std::string token(absl::StripAsciiWhitespace(std::string(req.headers.Get("Lock-Token"))));
    if (token.size() < 2 || token.front() != '<' || token.back() != '>') {
      return ErrorResponse(400, "Lock-Token header missing");
    }
    token = token.substr(1, token.size() - 2);
    auto all = locks_.Covering(user, "/", /*below=*/true);
    if (!all.ok()) return DriveError(all.status());
    auto on = LocksOn(*all, Normal(path));
    if (std::none_of(on.begin(), on.end(),
                     [&](const drive::LockInfo& l) { return l.token == token; })) {
      return ErrorResponse(409, "no lock on this resource has that token");
    }
    auto s = locks_.Unlock(user, token);
    if (!s.ok()) return DriveError(s);
    return Plain(204);
  }

  absl::StatusOr<std::string> Authenticate(const Request& req) {
    std::string auth(req.headers.Get("Authorization"));
    if (auth.empty()) return absl::UnauthenticatedError("no credentials");
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(auth.data()), auth.size(), digest);
    std::string key(reinterpret_cast<const char*>(digest), sizeof digest);
    if (std::optional<accounts::ProtocolLogin> hit = cache_.Find(key)) {
      absl::StatusOr<bool> holds = ctx_.accounts->ProtocolLoginHolds(*hit);
      if (!holds.ok()) return holds.status();
      if (*holds) return hit->user;
      cache_.Forget(key);  // the password changed or the app password went: check afresh
    }
    absl::StatusOr<BasicCredentials> given = ParseBasicAuth(req);
    if (!given.ok()) return given.status();
    absl::StatusOr<accounts::ProtocolLogin> login =
        ctx_.accounts->CheckProtocolLogin(given->user, given->password);
    if (!login.ok()) return login.status();
    cache_.Remember(key, *login);
    return login->user;
  }

  static Response Options() {
    Response res = Plain(200);
    res.headers.Set("DAV", "1, 2");
    res.headers.Set("MS-Author-Via", "DAV");
    res.headers.Set("Allow", kAllow);
    return res;
  }

  Response Get(const std::string& user, const std::string& path, const Request& req) {
    if (!IsShareIndex(path)) {
      auto place = ResolvePlace(ctx_, user, path, PlaceUse::kRead);
      if (!place.ok()) return DriveError(place.status());
      auto info = drive_->Stat(place->owner, place->path);
      if (!info.ok()) return DriveError(place->Seen(info.status()));
      if (!info->folder) {
        auto opened = drive_->Open(place->owner, place->path);
        if (!opened.ok()) return DriveError(place->Seen(opened.status()));
        return ServeReader(std::move(opened), req, /*attachment=*/true);
      }
    }
    auto list = ListAt(user, path);
    if (!list.ok()) return DriveError(list.status());
    auto parts = drive::SplitPath(path);
    std::string html = "<!doctype html><meta charset=utf-8><title>PennCloud</title><ul>";
    for (const auto& e : *list) {
      std::vector<std::string> child = *parts;
      child.push_back(e.name);
      absl::StrAppend(&html, "<li><a href=\"", dav::XmlEscape(Href(child, e.folder)), "\">",
                      dav::XmlEscape(e.name), e.folder ? "/" : "", "</a></li>");
    }
    Response res = Plain(200);
    res.headers.Set("Content-Type", "text/html; charset=utf-8");
    res.headers.Set("Content-Security-Policy", "default-src 'none'");
    res.body = absl::StrCat(html, "</ul>");
    return res;
  }

  Response Put(const std::string& user, const std::string& path, Request& req) {
    auto place = ResolvePlace(ctx_, user, path, PlaceUse::kWrite);
    if (!place.ok()) return DriveError(place.status());
    auto info = drive_->Stat(place->owner, place->path);
    if (info.ok() && info->folder) return ErrorResponse(405, "a folder is at that path");
    auto received = ReceiveFileContent(*drive_, place->owner, place->path, req);
    if (!received.ok()) {
      // A missing parent folder is a conflict in WebDAV, not a missing resource.
      if (absl::IsNotFound(received.status())) return ErrorResponse(409, "no parent folder");
      return DriveError(place->Seen(received.status()));
    }
    Response res = Plain(received->created ? 201 : 204);
    res.headers.Set("ETag", QuotedEtag(received->entry.etag));
    return res;
  }

  Response Delete(const std::string& user, const std::string& path) {
    auto place = ResolvePlace(ctx_, user, path, PlaceUse::kChange);
    if (!place.ok()) return DriveError(place.status());
    auto s = drive_->Delete(place->owner, place->path);
    if (!s.ok()) return DriveError(place->Seen(s));
    return Plain(204);
  }

  Response Mkcol(const std::string& user, const std::string& path, Request& req) {
    auto body = SmallBody(req);
    if (!body.ok()) return DriveError(body.status());
    if (!body->empty()) return ErrorResponse(415, "MKCOL with a body is not supported");
    auto place = ResolvePlace(ctx_, user, path, PlaceUse::kChange);
    if (!place.ok()) return DriveError(place.status());
    auto s = place->Seen(drive_->CreateFolder(place->owner, place->path));
    if (absl::IsAlreadyExists(s)) return ErrorResponse(405, "already exists");
    if (absl::IsNotFound(s) || absl::IsFailedPrecondition(s)) {
      return ErrorResponse(409, std::string(s.message()));
    }
    if (!s.ok()) return DriveError(s);
    return Plain(201);
  }

  Response CopyMove(const std::string& user, const std::string& path, Request& req, bool move) {
    if (!req.headers.Has("Destination")) return ErrorResponse(400, "Destination missing");
    auto dest = DestinationPath(req.headers.Get("Destination"));
    if (!dest.ok()) return ErrorResponse(502, std::string(dest.status().message()));
    auto src_parts = drive::SplitPath(path);
    auto dst_parts = drive::SplitPath(*dest);
    if (!src_parts.ok()) return DriveError(src_parts.status());
    if (!dst_parts.ok()) return DriveError(dst_parts.status());
    if (*src_parts == *dst_parts) return ErrorResponse(403, "source and destination are the same");
    std::string overwrite_header(req.headers.Get("Overwrite"));
    bool overwrite = overwrite_header != "F" && overwrite_header != "f";
    std::string depth(req.headers.Get("Depth"));
    if (!depth.empty() && depth != "infinity" && (move || depth != "0")) {
      return ErrorResponse(400, "Depth must be infinity (or 0 for COPY)");
    }
    auto from = ResolvePlace(ctx_, user, path, move ? PlaceUse::kChange : PlaceUse::kRead);
    if (!from.ok()) return DriveError(from.status());
    auto to = ResolvePlace(ctx_, user, *dest, PlaceUse::kChange);
    if (!to.ok()) return DriveError(to.status());
    auto src = drive_->Stat(from->owner, from->path);
    if (!src.ok()) return DriveError(from->Seen(src.status()));
    auto existing = drive_->Stat(to->owner, to->path);
    bool existed = existing.ok();
    if (existed && !overwrite) return ErrorResponse(412, "destination exists");
    absl::Status s;
    if (move) {
      s = MovePlace(ctx_, *from, *to, overwrite);
    } else if (depth == "0" && src->folder) {
      s = to->Seen(ShallowCopy(*src, *to, existed));
    } else {
      s = CopyPlace(*drive_, *from, *to, overwrite);
    }
    if (absl::IsNotFound(s)) return ErrorResponse(409, "destination folder does not exist");
    if (absl::IsAlreadyExists(s)) return ErrorResponse(412, "destination exists");
    if (!s.ok()) return DriveError(s);
    return Plain(existed ? 204 : 201);
  }

  // COPY with Depth 0 of a folder: the folder and its properties, not its members.
  absl::Status ShallowCopy(const drive::EntryInfo& src, const DrivePlace& dest, bool existed) {
    if (existed) {
      if (auto s = drive_->Delete(dest.owner, dest.path); !s.ok()) return s;
    }
    if (auto s = drive_->CreateFolder(dest.owner, dest.path); !s.ok()) return s;
    if (src.dead_props.empty()) return absl::OkStatus();
    drive::PropertyPatch patch;
    for (const auto& [k, v] : src.dead_props) patch.emplace_back(k, v);
    return drive_->PatchProperties(dest.owner, dest.path, patch);
  }

  // What a path names, for reading: a folder of the "Shared with me" index, or the entry
  // at its place.
  absl::StatusOr<drive::EntryInfo> StatAt(const std::string& user, const std::string& path) {
    if (IsShareIndex(path)) {
      auto parts = drive::SplitPath(path);
      if (parts->size() > 1) {  // an owner's folder is there while they share something
        if (auto list = ListShareIndex(ctx_, user, path); !list.ok()) return list.status();
      }
      drive::EntryInfo index;
      index.name = parts->back();
      index.folder = true;
      return index;
    }
    auto place = ResolvePlace(ctx_, user, path, PlaceUse::kRead);
    if (!place.ok()) return place.status();
    return StatPlace(*drive_, *place);
  }

  // The members of a folder; the root also holds "Shared with me" once anything is shared
  // with the user.
  absl::StatusOr<std::vector<drive::EntryInfo>> ListAt(const std::string& user,
                                                       const std::string& path) {
    if (IsShareIndex(path)) return ListShareIndex(ctx_, user, path);
    auto place = ResolvePlace(ctx_, user, path, PlaceUse::kRead);
    if (!place.ok()) return place.status();
    auto list = drive_->List(place->owner, place->path);
    if (!list.ok()) return place->Seen(list.status());
    auto parts = drive::SplitPath(path);
    if (place->share || !parts.ok() || !parts->empty()) return list;
    std::string index_name(kSharedWithMe.substr(1));
    auto after = std::lower_bound(
        list->begin(), list->end(), index_name,
        [](const drive::EntryInfo& e, const std::string& name) { return e.name < name; });
    if (after != list->end() && after->name == index_name) return list;  // shadowed anyway
    auto incoming = SharedShares(ctx_)->ListIncoming(user);
    if (!incoming.ok()) return incoming.status();
    if (incoming->empty()) return list;
    drive::EntryInfo index;
    index.name = index_name;
    index.folder = true;
    list->insert(after, std::move(index));
    return list;
  }

  Response Propfind(const std::string& user, const std::string& path, Request& req) {
    std::string depth(req.headers.Get("Depth"));
    if (depth.empty()) depth = "infinity";
    if (depth != "0" && depth != "1" && depth != "infinity") {
      return ErrorResponse(400, "Depth must be 0, 1 or infinity");
    }
    auto body = SmallBody(req);
    if (!body.ok()) return DriveError(body.status());
    PropfindKind kind = PropfindKind::kAll;
    std::vector<PropName> wanted;
    if (!body->empty()) {
      auto doc = dav::ParseXml(*body);
      if (!doc.ok()) return ErrorResponse(400, std::string(doc.status().message()));
      if (!doc->Is(kDav, "propfind")) return ErrorResponse(400, "expected DAV:propfind");
      if (doc->Child(kDav, "propname")) {
        kind = PropfindKind::kNames;
      } else if (const auto* prop = doc->Child(kDav, "prop")) {
        kind = PropfindKind::kSome;
        for (const auto& p : prop->children) wanted.push_back({p.ns, p.name});
      } else if (!doc->Child(kDav, "allprop")) {
        return ErrorResponse(400, "expected allprop, prop or propname");
      }
    }
    auto parts = drive::SplitPath(path);
    if (!parts.ok()) return DriveError(parts.status());
    auto info = StatAt(user, path);
    if (!info.ok()) return DriveError(info.status());
    LiveContext context;
    auto usage = drive_->GetUsage(user);
    if (!usage.ok()) return DriveError(usage.status());
    auto all = locks_.Covering(user, "/", /*below=*/true);
    if (!all.ok()) return DriveError(all.status());
    auto respond = [&](const std::vector<std::string>& at, const drive::EntryInfo& e) {
      std::string joined = drive::JoinPath(at);
      context.usage = InSharedWithMe(joined) ? nullptr : &*usage;
      context.locks = LocksOn(*all, joined);
      return PropResponse(Href(at, e.folder), e, kind, wanted, context);
    };
    std::string out = respond(*parts, *info);
    if (!info->folder || depth == "0") return Multistatus(out);
    // Breadth first, bounded: Depth 1 stops after the first level.
    std::deque<std::vector<std::string>> folders = {*parts};
    size_t answered = 1;
    while (!folders.empty()) {
      std::vector<std::string> folder = std::move(folders.front());
      folders.pop_front();
      auto list = ListAt(user, drive::JoinPath(folder));
      if (!list.ok()) return DriveError(list.status());
      for (const auto& e : *list) {
        if (++answered > kMaxPropfindResources) {
          Response res = Plain(403);
          res.headers.Set("Content-Type", "application/xml; charset=utf-8");
          res.body =
              "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\">"
              "<D:propfind-finite-depth/></D:error>\n";
          return res;
        }
        std::vector<std::string> child = folder;
        child.push_back(e.name);
        out += respond(child, e);
        if (e.folder && depth == "infinity") folders.push_back(std::move(child));
      }
    }
    return Multistatus(out);
  }

  Response Proppatch(const std::string& user, const std::string& path, Request& req) {
    auto body = SmallBody(req);
    if (!body.ok()) return DriveError(body.status());
    auto doc = dav::ParseXml(*body);
    if (!doc.ok()) return ErrorResponse(400, std::string(doc.status().message()));
    if (!doc->Is(kDav, "propertyupdate")) return ErrorResponse(400, "expected propertyupdate");
    auto place = ResolvePlace(ctx_, user, path, PlaceUse::kChange);
    if (!place.ok()) return DriveError(place.status());
    auto info = drive_->Stat(place->owner, place->path);
    if (!info.ok()) return DriveError(place->Seen(info.status()));
    drive::PropertyPatch patch;
    std::vector<PropName> names;
    bool forbidden = false;
    for (const auto& op : doc->children) {
      bool set = op.Is(kDav, "set");
      if (!set && !op.Is(kDav, "remove")) continue;
      const auto* prop = op.Child(kDav, "prop");
      if (prop == nullptr) return ErrorResponse(400, "set/remove without prop");
      for (const auto& p : prop->children) {
        names.push_back({p.ns, p.name});
        if (p.ns == kDav) forbidden = true;  // live properties are ours to compute
        patch.emplace_back(DeadKey(p.ns, p.name),
                           set ? std::optional<std::string>(p.inner_xml) : std::nullopt);
      }
    }
    if (!forbidden && !patch.empty()) {
      if (auto s = drive_->PatchProperties(place->owner, place->path, patch); !s.ok()) {
        return DriveError(place->Seen(s));
      }
    }
    auto parts = drive::SplitPath(path);
    std::string props;
    std::string out = absl::StrCat("<D:response><D:href>",
                                   dav::XmlEscape(Href(*parts, info->folder)), "</D:href>");
    // All or nothing: if any property is protected, none was changed (403 for it, 424 for
    // the rest).
    for (const auto& n : names) {
      int code = !forbidden ? 200 : (n.ns == kDav ? 403 : 424);
      absl::StrAppend(&out, "<D:propstat><D:prop>", dav::ElementXml(n.ns, n.name, ""),
                      "</D:prop><D:status>", StatusLine(code), "</D:status></D:propstat>");
    }
    return Multistatus(absl::StrCat(out, "</D:response>"));
  }

  const ApiContext& ctx_;
  std::shared_ptr<drive::Drive> drive_;
  drive::LockTable locks_;
  CredentialCache cache_;
};

}  // namespace

void RegisterWebDavRoutes(Router& router, const ApiContext& ctx) {
  auto dav = std::make_shared<WebDav>(ctx, SharedDrive(ctx));
  router.Add(
      "*", "/dav/*", [dav](Request& req) { return dav->Handle(req); },
      RouteOptions{.stream_body = true, .max_body = kMaxUploadBytes, .nonblocking = false});
}

}  // namespace penncloud::frontend
