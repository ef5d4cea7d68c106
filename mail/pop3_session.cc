#include "mail/pop3_session.h"

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

SessionOutput Line(std::string_view text) { return {Cat(text, "\r\n")}; }
SessionOutput Err(std::string_view text) { return Line(Cat("-ERR ", text)); }

// Appends `source` as a multi-line response body: dot-stuffed, CRLF, ".".
// `body_lines` < 0 sends everything; otherwise the headers, the blank line and that many
// body lines (TOP).
void AppendMultiline(std::string_view source, int64_t body_lines, std::string* out) {
  bool in_body = false;
  int64_t sent_body = 0;
  while (!source.empty()) {
    size_t end = source.find('\n');
    std::string_view line = source.substr(0, end);
    source = end == std::string_view::npos ? std::string_view() : source.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (in_body && body_lines >= 0 && sent_body++ >= body_lines) break;
    if (!line.empty() && line.front() == '.') out->push_back('.');
    out->append(line);
    out->append("\r\n");
    if (line.empty()) in_body = true;
  }
  out->append(".\r\n");
}

}  // namespace

Pop3Session::Pop3Session(const Pop3Config& config, MailStore& store, Authenticator authenticate,
                         std::string owner, std::function<int64_t()> now_micros)
    : config_(config),
      store_(store),
      authenticate_(std::move(authenticate)),
      owner_(std::move(owner)),
      now_micros_(now_micros ? std::move(now_micros)
                             : [] { return absl::ToUnixMicros(absl::Now()); }) {}

std::string Pop3Session::Greeting() const {
  return Cat("+OK ", config_.hostname, " PennCloud POP3 server ready\r\n");
}

SessionOutput Pop3Session::OnLineTooLong() { return Err("Line too long"); }

void Pop3Session::OnDisconnect() {
  if (state_ == State::kTransaction) {
    (void)store_.Unlock(user_, owner_);
    state_ = State::kAuthorization;
  }
}

SessionOutput Pop3Session::OnLine(std::string_view line) {
  if (state_ == State::kAuthPlain || state_ == State::kAuthLoginUser ||
      state_ == State::kAuthLoginPass) {
    return SaslResponse(line);
  }
  std::string_view verb = line.substr(0, line.find(' '));
  std::string_view arg =
      verb.size() < line.size() ? Trim(line.substr(verb.size() + 1)) : std::string_view();
  std::string upper = ToLower(verb);
  if (upper == "capa") return Capabilities();
  if (upper == "quit") return Quit();
  if (state_ == State::kAuthorization) return Authorization(upper, arg);
  return Transaction(upper, arg);
}

SessionOutput Pop3Session::Capabilities() const {
  std::string text =
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
      "AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\n";
  if (state_ != State::kTransaction) {
    // Logins are offered only under TLS (RFC 2595 4 allows hiding them before).
    if (tls_) text += "USER\r\nSASL PLAIN LOGIN\r\n";
    if (config_.tls_available && !tls_) text += "STLS\r\n";
  }
  text += "IMPLEMENTATION PennCloud\r\n.\r\n";
  return {text};
}

SessionOutput Pop3Session::Authorization(std::string_view verb, std::string_view arg) {
  if (!tls_ && (verb == "user" || verb == "pass" || verb == "apop" || verb == "auth")) {
    return Err("[AUTH] Plaintext authentication disallowed without TLS; use STLS");
  }
  if (verb == "user") {
    if (arg.empty()) return Err("USER needs a name");
    pending_user_ = std::string(arg);
    return Line("+OK Send PASS");
  }
  if (verb == "pass") {
    if (pending_user_.empty()) return Err("Send USER first");
    std::string user = std::move(pending_user_);
    pending_user_.clear();
    return Login(user, arg);
  }
  if (verb == "auth") {
    std::vector<std::string_view> words = SplitSpaces(arg);
    // Without a mechanism: list them (older Thunderbird probes this way).
    if (words.empty()) return {"+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n"};
    if (words.size() > 2) return Err("Syntax: AUTH mechanism [initial-response]");
    if (EqualsIgnoreCase(words[0], "PLAIN")) {
      state_ = State::kAuthPlain;
      if (words.size() == 1) return Line("+ ");
      return SaslResponse(words[1]);
    }
    if (EqualsIgnoreCase(words[0], "LOGIN")) {
      state_ = State::kAuthLoginUser;
      if (words.size() == 1) return Line("+ VXNlcm5hbWU6");  // "Username:"
      return SaslResponse(words[1]);
    }
    return Err("Unsupported authentication mechanism");
  }
  if (verb == "stls") {
    if (!config_.tls_available) return Err("STLS not available");
    if (tls_) return Err("TLS already active");
    SessionOutput out = Line("+OK Begin TLS negotiation");
    out.start_tls = true;
    return out;
  }
  if (verb == "apop") return Err("APOP not supported");
  return Err("Command not valid in this state");
}

SessionOutput Pop3Session::SaslResponse(std::string_view line) {
  State state = state_;
  state_ = State::kAuthorization;
  line = Trim(line);
  if (line == "*") return Err("Authentication cancelled");
  std::string decoded;
  if (line != "=" && !Base64Decode(line, &decoded)) return Err("Cannot decode response");
  if (state == State::kAuthLoginUser) {
    pending_user_ = decoded;
    state_ = State::kAuthLoginPass;
    return Line("+ UGFzc3dvcmQ6");  // "Password:"
  }
  if (state == State::kAuthLoginPass) {
    std::string user = std::move(pending_user_);
    pending_user_.clear();
    return Login(user, decoded);
  }
  size_t first = decoded.find('\0');
  size_t second = first == std::string::npos ? first : decoded.find('\0', first + 1);
  if (second == std::string::npos) return Err("Malformed PLAIN response");
  std::string authzid = decoded.substr(0, first);
  std::string authcid = decoded.substr(first + 1, second - first - 1);
  if (!authzid.empty() && authzid != authcid) return Err("[AUTH] Authorization identity refused");
  return Login(authcid, decoded.substr(second + 1));
}

SessionOutput Pop3Session::Login(std::string_view user, std::string_view password) {
  std::string name(user);
  size_t at = name.rfind('@');
  if (at != std::string::npos && ToLower(name.substr(at + 1)) == ToLower(config_.domain)) {
    name.resize(at);
  }
  auto checked = authenticate_(name, password);
  if (!checked.ok()) {
    if (absl::IsUnauthenticated(checked.status()) || absl::IsInvalidArgument(checked.status())) {
      return Err("[AUTH] Invalid user name or password");
    }
    if (absl::IsResourceExhausted(checked.status())) {
      // The account's back-off or this address's attempt limit; the message says which.
      return Err(Cat("[AUTH] ", std::string(checked.status().message())));
    }
    return Err("[SYS/TEMP] Authentication unavailable, try again later");
  }
  auto locked = store_.Lock(*checked, owner_, config_.lease_micros);
  if (!locked.ok()) return Err("[SYS/TEMP] Mailbox unavailable, try again later");
  if (!*locked) return Err("[IN-USE] Mailbox is in use by another session");
  auto inbox = store_.ListAll(*checked, kInbox);
  if (!inbox.ok()) {
    (void)store_.Unlock(*checked, owner_);
    return Err("[SYS/TEMP] Mailbox unavailable, try again later");
  }
  user_ = *checked;
  lease_renewed_ = now_micros_();
  messages_.clear();
  // Message 1 is the oldest, as POP3 clients expect.
  for (auto it = inbox->rbegin(); it != inbox->rend(); ++it) messages_.push_back({*it});
  state_ = State::kTransaction;
  PC_LOG(kInfo, "pop3.login")("user", user_)("messages", messages_.size());
  return Line(Cat("+OK ", user_, " has ", messages_.size(), " messages"));
}

bool Pop3Session::RenewLease() {
  if (now_micros_() - lease_renewed_ < config_.lease_micros / 10) return true;
  auto locked = store_.Lock(user_, owner_, config_.lease_micros);
  if (!locked.ok() || !*locked) return false;
  lease_renewed_ = now_micros_();
  return true;
}

Pop3Session::Entry* Pop3Session::Message(std::string_view arg, std::string* error) {
  size_t n = 0;
  if (!absl::SimpleAtoi(std::string(arg), &n) || n == 0 || n > messages_.size()) {
    *error = "No such message";
    return nullptr;
  }
  Entry* e = &messages_[n - 1];
  if (e->deleted) {
    *error = "Message already deleted";
    return nullptr;
  }
  return e;
}

SessionOutput Pop3Session::Transaction(std::string_view verb, std::string_view arg) {
  if (!RenewLease()) return Err("[IN-USE] Lost the mailbox lock; QUIT and log in again");
  std::string error;
  std::vector<std::string_view> args = SplitSpaces(arg);
  if (verb == "stat") {
    int count = 0;
    int64_t size = 0;
    for (const Entry& e : messages_) {
      if (e.deleted) continue;
      ++count;
      size += e.meta.size();
    }
    return Line(Cat("+OK ", count, " ", size));
  }
  if (verb == "list" || verb == "uidl") {
    bool uidl = verb == "uidl";
    auto item = [&](size_t n, const Entry& e) {
      return uidl ? Cat(n, " ", e.meta.id()) : Cat(n, " ", e.meta.size());
    };
    if (!args.empty()) {
      Entry* e = Message(args[0], &error);
      if (e == nullptr) return Err(error);
      return Line(Cat("+OK ", item(e - messages_.data() + 1, *e)));
    }
    std::string text = "+OK\r\n";
    for (size_t i = 0; i < messages_.size(); ++i) {
      if (!messages_[i].deleted) text += Cat(item(i + 1, messages_[i]), "\r\n");
    }
    text += ".\r\n";
    return {text};
  }
  if (verb == "retr" || verb == "top") {
    if (args.empty() || (verb == "top" && args.size() != 2)) return Err("Missing argument");
    Entry* e = Message(args[0], &error);
    if (e == nullptr) return Err(error);
    int64_t lines = -1;
    if (verb == "top" && (!absl::SimpleAtoi(std::string(args[1]), &lines) || lines < 0)) {
      return Err("Bad line count");
    }
    auto source = store_.Source(user_, e->meta);
    if (!source.ok()) return Err("[SYS/TEMP] Cannot read message, try again later");
    std::string text = verb == "retr" ? Cat("+OK ", e->meta.size(), " octets\r\n") : "+OK\r\n";
    AppendMultiline(*source, lines, &text);
    if (verb == "retr" && !e->meta.seen()) {
      // Webmail shows it as read too; a failure here only leaves it unread.
      if (store_.SetSeen(user_, e->meta.id(), true).ok()) e->meta.set_seen(true);
    }
    return {text};
  }
  if (verb == "dele") {
    if (args.empty()) return Err("Missing argument");
    Entry* e = Message(args[0], &error);
    if (e == nullptr) return Err(error);
    e->deleted = true;
    // The number as we read it, not as sent: "1\r" (absl::SimpleAtoi skips the CR) would
    // echo a bare CR into the reply (found by pop3_session_fuzz).
    return Line(Cat("+OK Message ", e - messages_.data() + 1, " deleted"));
  }
  if (verb == "rset") {
    for (Entry& e : messages_) e.deleted = false;
    return Line(Cat("+OK ", messages_.size(), " messages"));
  }
  if (verb == "noop") return Line("+OK");
  return Err("Command not valid in this state");
}

SessionOutput Pop3Session::Quit() {
  SessionOutput out;
  out.close = true;
  if (state_ != State::kTransaction) {
    out.text = Cat("+OK ", config_.hostname, " signing off\r\n");
    return out;
  }
  // UPDATE state: what DELE marked goes to Trash, where webmail and IMAP can still
  // restore it (emptying Trash deletes for good). A message another client has meanwhile
  // filed elsewhere, or removed, stays where it is.
  int removed = 0;
  bool failed = false;
  for (const Entry& e : messages_) {
    if (!e.deleted) continue;
    auto current = store_.Find(user_, e.meta.id());
    absl::Status s = current.status();
    if (current.ok() && current->folder() == kInbox) {
      s = store_.Move(user_, e.meta.id(), kTrash).status();
    }
    if (s.ok() || absl::IsNotFound(s)) {
      ++removed;
    } else {
      failed = true;
    }
  }
  (void)store_.Unlock(user_, owner_);
  state_ = State::kAuthorization;
  PC_LOG(kInfo, "pop3.quit")("user", user_)("removed", removed)("failed", failed);
  if (failed) {
    out.text = "-ERR [SYS/TEMP] Some deleted messages were not moved to Trash\r\n";
  } else {
    out.text = Cat("+OK ", config_.hostname, " signing off (", removed, " messages deleted)\r\n");
  }
  return out;
}

}  // namespace penncloud::mail
