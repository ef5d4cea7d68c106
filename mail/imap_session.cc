#include "mail/imap_session.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

SessionOutput Text(std::string text) { return {std::move(text)}; }
SessionOutput Tagged(std::string_view tag, std::string_view text) {
  return {Cat(tag, " ", text, "\r\n")};
}

// The literal a line announces at its end ({n} or {n+}), if any.
struct Announced {
  uint64_t size = 0;
  bool synchronizing = true;
};
std::optional<Announced> LiteralAtEnd(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view inside = line.substr(open + 1, line.size() - open - 2);
  Announced a;
  if (!inside.empty() && inside.back() == '+') {
    a.synchronizing = false;
    inside.remove_suffix(1);
  }
  if (inside.empty() || inside.size() > 19) return std::nullopt;
  for (char c : inside) {
    if (c < '0' || c > '9') return std::nullopt;
    a.size = a.size * 10 + static_cast<uint64_t>(c - '0');
  }
  return a;
}

std::string_view TagOf(std::string_view command) {
  size_t end = command.find_first_of(" \r\n");
  std::string_view tag = command.substr(0, end);
  return tag.empty() || tag.size() > 64 ? std::string_view("*") : tag;
}

}  // namespace

std::string ImapName(std::string_view folder) {
  if (folder == kInbox) return "INBOX";
  if (folder == kSent) return "Sent";
  if (folder == kDrafts) return "Drafts";
  if (folder == kTrash) return "Trash";
  if (folder == kJunk) return "Junk";
  return std::string(folder);
}

std::string StoreName(std::string_view imap_name) {
  for (std::string_view system : kSystemFolders) {
    if (EqualsIgnoreCase(imap_name, system)) return std::string(system);
  }
  return std::string(imap_name);
}

std::string_view SpecialUse(std::string_view folder) {
  if (folder == kSent) return "\\Sent";
  if (folder == kDrafts) return "\\Drafts";
  if (folder == kTrash) return "\\Trash";
  if (folder == kJunk) return "\\Junk";
  return "";
}

std::string ImapDate(int64_t micros) {
  return absl::FormatTime("%d-%b-%Y %H:%M:%S +0000", absl::FromUnixMicros(micros),
                          absl::UTCTimeZone());
}

std::optional<int64_t> ParseImapDate(std::string_view text) {
  std::string t(Trim(text));
  if (!t.empty() && t[0] == ' ') t = t.substr(1);
  absl::Time time;
  std::string err;
  if (t.size() == 25 && t[0] == ' ') t = "0" + t.substr(1);
  if (!absl::ParseTime("%d-%b-%Y %H:%M:%S %z", t, &time, &err)) return std::nullopt;
  return absl::ToUnixMicros(time);
}

ImapSession::ImapSession(const ImapConfig& config, MailStore& store, Authenticator authenticate,
                         std::function<int64_t()> now_micros)
    : config_(config),
      store_(store),
      authenticate_(std::move(authenticate)),
      now_micros_(now_micros ? std::move(now_micros)
                             : [] { return absl::ToUnixMicros(absl::Now()); }) {}

std::string ImapSession::Greeting() const {
  return Cat("* OK [CAPABILITY ", Capabilities(), "] ", config_.hostname,
             " PennCloud IMAP server ready\r\n");
}

std::string ImapSession::Capabilities() const {
  std::string caps = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ENABLE ID IDLE NAMESPACE";
  if (!authenticated()) {
    if (config_.tls_available && !tls_) caps += " STARTTLS";
    caps += tls_ ? " AUTH=PLAIN AUTH=LOGIN" : " LOGINDISABLED";
    return caps;
  }
  return caps +
         " UNSELECT UIDPLUS MOVE CONDSTORE QRESYNC SPECIAL-USE LIST-EXTENDED LIST-STATUS "
         "CHILDREN ESEARCH MULTIAPPEND BINARY";
}

SessionOutput ImapSession::OnLineTooLong() {
  command_.clear();
  continuing_ = false;
  literals_ = 0;
  return Text(Cat("* BAD [TOOBIG] Line longer than ", config_.max_command_bytes, " bytes\r\n"));
}

SessionOutput ImapSession::OnLiteral(std::string_view bytes) {
  size_t take = std::min(bytes.size(), literal_left_);
  command_.append(bytes.substr(0, take));
  literal_left_ -= take;
  return {};
}

SessionOutput ImapSession::OnLine(std::string_view line) {
  if (logged_out_) return {};
  if (idle_tag_) {
    std::string tag = *idle_tag_;
    idle_tag_.reset();
    if (!EqualsIgnoreCase(Trim(line), "DONE")) return Tagged(tag, "BAD Expected DONE");
    SessionOutput out = Text(Refresh());
    out.text += Cat(tag, " OK IDLE terminated\r\n");
    return out;
  }
  if (sasl_ != Sasl::kNone) return SaslLine(line);
  if (!continuing_) {
    command_.clear();
    literals_ = 0;
  }
  continuing_ = false;
  if (command_.size() + line.size() >
      config_.max_command_bytes + literals_ * config_.max_literal_bytes) {
    command_.clear();
    return Text("* BAD [TOOBIG] Command too long\r\n");
  }
  command_.append(line);
  if (auto literal = LiteralAtEnd(line)) {
    std::string tag(TagOf(command_));
    if (literal->size > config_.max_literal_bytes || literals_ >= config_.max_literals) {
      command_.clear();
      if (!literal->synchronizing) {
        // Its bytes are already on the way and would be read as commands: end here.
        SessionOutput out = Text("* BYE [TOOBIG] Literal too large\r\n");
        out.close = true;
        return out;
      }
      return Tagged(
          tag, Cat("NO [TOOBIG] Literals are limited to ", config_.max_literal_bytes, " bytes"));
    }
    ++literals_;
    command_.append("\r\n");
    literal_left_ = literal->size;
    continuing_ = true;
    if (literal->synchronizing) return Text("+ Ready for literal data\r\n");
    return {};
  }
  std::string command = std::move(command_);
  command_.clear();
  return Execute(command);
}

SessionOutput ImapSession::Execute(std::string_view command) {
  ImapParser p(command);
  auto tag = p.Atom();
  if (!tag || tag->size() > 64 || tag->find('+') != std::string::npos) {
    return Text("* BAD Missing or invalid tag\r\n");
  }
  if (!p.Space()) return Tagged(*tag, "BAD Missing command");
  auto verb = p.Atom();
  if (!verb) return Tagged(*tag, "BAD Missing command");
  std::string upper = ToLower(*verb);
  if (upper == "uid") {
    if (!p.Space()) return Tagged(*tag, "BAD UID needs a command");
    auto sub = p.Atom();
    if (!sub) return Tagged(*tag, "BAD UID needs a command");
    upper = "uid " + ToLower(*sub);
  }
  SessionOutput out = Dispatch(*tag, upper, p);
  if (upper != "logout" && upper != "capability") {
    PC_LOG(kDebug, "imap.command")("verb", upper)("user", user_);
  }
  return out;
}

SessionOutput ImapSession::Dispatch(const std::string& tag, std::string_view verb, ImapParser& p) {
  // Any state.
  if (verb == "capability") {
    return Text(Cat("* CAPABILITY ", Capabilities(), "\r\n", tag, " OK CAPABILITY completed\r\n"));
  }
  if (verb == "noop" || verb == "check") {
    return Text(
        Cat(Refresh(), tag, " OK ", ToLower(verb) == "noop" ? "NOOP" : "CHECK", " completed\r\n"));
  }
  if (verb == "logout") {
    logged_out_ = true;
    SessionOutput out =
        Text(Cat("* BYE PennCloud IMAP server signing off\r\n", tag, " OK LOGOUT completed\r\n"));
    out.close = true;
    return out;
  }
  if (verb == "id") {
    return Text(Cat("* ID (\"name\" \"PennCloud\")\r\n", tag, " OK ID completed\r\n"));
  }
  if (!authenticated()) {
    if (verb == "starttls") {
      if (!config_.tls_available) return Tagged(tag, "BAD STARTTLS not available");
      if (tls_) return Tagged(tag, "BAD TLS already active");
      SessionOutput out = Tagged(tag, "OK Begin TLS negotiation now");
      out.start_tls = true;
      return out;
    }
    if (verb == "login") {
      if (!tls_) return Tagged(tag, "NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS");
      std::optional<std::string> user, password;
      if (!p.Space() || !(user = p.AString()) || !p.Space() || !(password = p.AString()) ||
          !p.AtEnd()) {
        return Tagged(tag, "BAD Syntax: LOGIN user password");
      }
      return Login(tag, *user, *password);
    }
    if (verb == "authenticate") return Authenticate(tag, p);
    return Tagged(tag, "BAD Command not valid before login (or unknown)");
  }
  if (verb == "enable") {
    std::string enabled;
    while (p.Space()) {
      auto what = p.Atom();
      if (!what) return Tagged(tag, "BAD Syntax: ENABLE capability...");
      if (EqualsIgnoreCase(*what, "CONDSTORE")) {
        condstore_ = true;
        enabled += " CONDSTORE";
      } else if (EqualsIgnoreCase(*what, "QRESYNC")) {
        condstore_ = qresync_ = true;  // RFC 7162 3.2.3: QRESYNC implies CONDSTORE
        enabled += " QRESYNC";
      } else if (EqualsIgnoreCase(*what, "IMAP4rev2")) {
        rev2_ = true;
        enabled += " IMAP4rev2";
      }
    }
    return Text(Cat("* ENABLED", enabled, "\r\n", tag, " OK ENABLE completed\r\n"));
  }
  if (verb == "namespace") {
    return Text(Cat("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", tag, " OK NAMESPACE completed\r\n"));
  }
  if (verb == "select" || verb == "examine") return Select(tag, p, verb == "examine");
  if (verb == "create") return Create(tag, p);
  if (verb == "delete") return Delete(tag, p);
  if (verb == "rename") return Rename(tag, p);
  if (verb == "subscribe" || verb == "unsubscribe") return Subscribe(tag, p, verb == "subscribe");
  if (verb == "list" || verb == "lsub") return List(tag, p, verb == "lsub");
  if (verb == "status") return Status(tag, p);
  if (verb == "append") return Append(tag, p);
  if (verb == "idle") {
    if (!p.AtEnd()) return Tagged(tag, "BAD IDLE takes no arguments");
    idle_tag_ = tag;
    return Text(Cat(Refresh(), "+ idling\r\n"));
  }
  if (!selected_) {
    return Tagged(tag, "BAD No mailbox selected (or unknown command)");
  }
  if (verb == "close") return Close(tag, true);
  if (verb == "unselect") return Close(tag, false);
  if (verb == "expunge") return Expunge(tag, p, false);
  if (verb == "uid expunge") return Expunge(tag, p, true);
  if (verb == "fetch" || verb == "uid fetch") return Fetch(tag, p, verb != "fetch");
  if (verb == "store" || verb == "uid store") return Store(tag, p, verb != "store");
  if (verb == "copy" || verb == "uid copy") return CopyOrMove(tag, p, verb != "copy", false);
  if (verb == "move" || verb == "uid move") return CopyOrMove(tag, p, verb != "move", true);
  if (verb == "search" || verb == "uid search") return Search(tag, p, verb != "search");
  return Tagged(tag, "BAD Unknown command");
}

SessionOutput ImapSession::Authenticate(const std::string& tag, ImapParser& p) {
  if (!tls_) return Tagged(tag, "NO [PRIVACYREQUIRED] AUTHENTICATE is disabled before STARTTLS");
  std::optional<std::string> mechanism;
  if (!p.Space() || !(mechanism = p.Atom())) {
    return Tagged(tag, "BAD Syntax: AUTHENTICATE mechanism [initial-response]");
  }
  std::optional<std::string> initial;
  if (p.Space()) initial = p.Atom("=");
  if (!p.AtEnd()) return Tagged(tag, "BAD Syntax: AUTHENTICATE mechanism [initial-response]");
  sasl_tag_ = tag;
  if (EqualsIgnoreCase(*mechanism, "PLAIN")) {
    sasl_ = Sasl::kPlain;
    if (!initial) return Text("+ \r\n");
    return SaslLine(*initial);
  }
  if (EqualsIgnoreCase(*mechanism, "LOGIN")) {
    sasl_ = Sasl::kLoginUser;
    if (!initial) return Text("+ VXNlcm5hbWU6\r\n");  // "Username:"
    return SaslLine(*initial);
  }
  return Tagged(tag, "NO Unsupported authentication mechanism");
}

SessionOutput ImapSession::SaslLine(std::string_view line) {
  Sasl state = sasl_;
  sasl_ = Sasl::kNone;
  line = Trim(line);
  if (line == "*") return Tagged(sasl_tag_, "BAD Authentication cancelled");
  std::string decoded;
  if (line != "=" && !Base64Decode(line, &decoded)) {
    return Tagged(sasl_tag_, "BAD Cannot decode response");
  }
  if (state == Sasl::kLoginUser) {
    sasl_user_ = decoded;
    sasl_ = Sasl::kLoginPass;
    return Text("+ UGFzc3dvcmQ6\r\n");  // "Password:"
  }
  if (state == Sasl::kLoginPass) {
    std::string user = std::move(sasl_user_);
    sasl_user_.clear();
    return Login(sasl_tag_, user, decoded);
  }
  size_t first = decoded.find('\0');
  size_t second = first == std::string::npos ? first : decoded.find('\0', first + 1);
  if (second == std::string::npos) return Tagged(sasl_tag_, "BAD Malformed PLAIN response");
  std::string authzid = decoded.substr(0, first);
  std::string authcid = decoded.substr(first + 1, second - first - 1);
  if (!authzid.empty() && authzid != authcid) {
    return Tagged(sasl_tag_, "NO [AUTHORIZATIONFAILED] Authorization identity refused");
  }
  return Login(sasl_tag_, authcid, decoded.substr(second + 1));
}

SessionOutput ImapSession::Login(const std::string& tag, std::string_view user,
                                 std::string_view password) {
  std::string name(user);
  size_t at = name.rfind('@');
  if (at != std::string::npos && ToLower(name.substr(at + 1)) == ToLower(config_.domain)) {
    name.resize(at);
  }
  auto checked = authenticate_(name, password);
  if (!checked.ok()) {
    if (absl::IsUnauthenticated(checked.status()) || absl::IsInvalidArgument(checked.status())) {
      return Tagged(tag, "NO [AUTHENTICATIONFAILED] Invalid user name or password");
    }
    if (absl::IsResourceExhausted(checked.status())) {
      return Tagged(tag, Cat("NO [LIMIT] ", std::string(checked.status().message())));
    }
    return Tagged(tag, "NO [UNAVAILABLE] Authentication unavailable, try again later");
  }
  user_ = *checked;
  PC_LOG(kInfo, "imap.login")("user", user_);
  return Tagged(tag, Cat("OK [CAPABILITY ", Capabilities(), "] Logged in"));
}

SessionOutput ImapSession::OnPoll() {
  if (!idle_tag_) return {};
  return Text(Refresh());
}

}  // namespace penncloud::mail
