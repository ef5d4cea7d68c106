#include "mail/smtp_session.h"

#include "absl/strings/numbers.h"
#include "mail/mime.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

SessionOutput Reply(std::string_view text) { return {Cat(text, "\r\n")}; }

}  // namespace

namespace {

// CR, LF and the other controls never belong in a path or a HELO name (RFC 5321 4.1.2); a
// bare CR in one would be echoed into the Received header and the relay's own commands.
bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

}  // namespace

bool ParsePath(std::string_view text, std::string* address, std::string_view* rest) {
  text = Trim(text);
  if (HasControl(text)) return false;
  if (text.empty()) return false;
  if (text.front() != '<') {
    // Lenient: some clients omit the brackets.
    size_t end = text.find(' ');
    *address = std::string(text.substr(0, end));
    *rest = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    return !address->empty() && address->find('<') == std::string::npos;
  }
  size_t close = text.find('>');
  if (close == std::string_view::npos) return false;
  std::string_view inner = text.substr(1, close - 1);
  if (!inner.empty() && inner.front() == '@') {  // a source route, which RFC 5321 ignores
    size_t colon = inner.find(':');
    if (colon == std::string_view::npos) return false;
    inner = inner.substr(colon + 1);
  }
  if (inner.find_first_of(" <>") != std::string_view::npos) return false;
  *address = std::string(inner);
  *rest = text.substr(close + 1);
  return true;
}

bool SplitAddress(std::string_view address, std::string* local, std::string* domain) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
  *local = std::string(address.substr(0, at));
  *domain = ToLower(address.substr(at + 1));
  return true;
}

SmtpSession::SmtpSession(const SmtpConfig& config, SmtpBackend& backend, std::string peer,
                         std::function<std::string()> date)
    : config_(config), backend_(backend), peer_(std::move(peer)), date_(std::move(date)) {}

std::string SmtpSession::Greeting() const {
  return Cat("220 ", config_.hostname, " ESMTP PennCloud ready\r\n");
}

void SmtpSession::ResetTransaction() {
  in_transaction_ = false;
  envelope_ = Envelope();
  data_.clear();
  data_too_big_ = false;
}

void SmtpSession::OnTlsStarted() {
  tls_ = true;
  state_ = State::kStart;
  helo_.clear();
  esmtp_ = false;
  user_.clear();
  ResetTransaction();
}

SessionOutput SmtpSession::OnLineTooLong() {
  if (state_ == State::kData) {
    // RFC 5321 4.5.3.1.6 lets us refuse the message; keep reading to its end first.
    data_too_big_ = true;
    return {};
  }
  if (state_ != State::kStart && state_ != State::kReady) state_ = State::kReady;
  return Reply("500 5.5.2 Line too long");
}

SessionOutput SmtpSession::OnLine(std::string_view line, bool bare_lf) {
  switch (state_) {
    case State::kData:
      return DataLine(line, bare_lf);
    case State::kAuthPlain:
    case State::kAuthLoginUser:
    case State::kAuthLoginPass:
      return AuthResponse(line);
    default:
      if (line.size() + 2 > config_.max_command_bytes) return OnLineTooLong();
      return Command(line);
  }
}

SessionOutput SmtpSession::Command(std::string_view line) {
  std::string_view verb = line.substr(0, line.find(' '));
  std::string_view arg =
      verb.size() < line.size() ? Trim(line.substr(verb.size() + 1)) : std::string_view();
  auto is = [&](std::string_view name) { return EqualsIgnoreCase(verb, name); };

  if (is("EHLO")) return Ehlo(arg, true);
  if (is("HELO")) return Ehlo(arg, false);
  if (is("QUIT")) {
    SessionOutput out = Reply(Cat("221 2.0.0 ", config_.hostname, " closing connection"));
    out.close = true;
    return out;
  }
  if (is("NOOP")) return Reply("250 2.0.0 OK");
  if (is("RSET")) {
    ResetTransaction();
    return Reply("250 2.0.0 OK");
  }
  if (is("VRFY")) {
    // We neither confirm nor deny addresses (harvesting), as RFC 5321 3.5.3 allows.
    return Reply("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
  }
  if (is("EXPN")) return Reply("502 5.5.1 EXPN not implemented");
  if (is("HELP")) return Reply("214 2.0.0 See RFC 5321");
  if (is("STARTTLS")) {
    if (!config_.tls_available) return Reply("502 5.5.1 STARTTLS not available");
    if (tls_) return Reply("503 5.5.1 TLS already active");
    if (!arg.empty()) return Reply("501 5.5.4 STARTTLS takes no parameters");
    SessionOutput out = Reply("220 2.0.0 Ready to start TLS");
    out.start_tls = true;
    return out;
  }
  if (state_ == State::kStart &&
      (is("MAIL") || is("RCPT") || is("DATA") || is("AUTH") || is("BDAT"))) {
    return Reply("503 5.5.1 Send EHLO/HELO first");
  }
  if (is("MAIL")) return Mail(arg);
  if (is("RCPT")) return Rcpt(arg);
  if (is("AUTH")) {
    if (!tls_) return Reply("530 5.7.0 Must issue a STARTTLS command first");
    return Auth(arg);
  }
  if (is("DATA")) {
    if (!in_transaction_) return Reply("503 5.5.1 Need MAIL command");
    if (envelope_.recipients.empty()) return Reply("554 5.5.1 No valid recipients");
    if (!arg.empty()) return Reply("501 5.5.4 DATA takes no parameters");
    state_ = State::kData;
    data_.clear();
    data_too_big_ = false;
    return Reply("354 End data with <CR><LF>.<CR><LF>");
  }
  return Reply("500 5.5.2 Command not recognized");
}

SessionOutput SmtpSession::Ehlo(std::string_view arg, bool extended) {
  if (arg.empty()) return Reply(Cat("501 5.5.4 Syntax: ", extended ? "EHLO" : "HELO", " hostname"));
  if (HasControl(arg)) return Reply("501 5.5.4 Control characters in the hostname");
  helo_ = std::string(arg.substr(0, arg.find(' ')));
  esmtp_ = extended;
  state_ = State::kReady;
  ResetTransaction();  // RFC 5321 4.1.4: EHLO resets like RSET
  if (!extended) return Reply(Cat("250 ", config_.hostname));
  std::vector<std::string> lines = {Cat(config_.hostname, " greets ", helo_),
                                    Cat("SIZE ", config_.max_message_bytes), "8BITMIME",
                                    "PIPELINING", "ENHANCEDSTATUSCODES"};
  if (config_.tls_available && !tls_) lines.push_back("STARTTLS");
  if (tls_ && user_.empty()) lines.push_back("AUTH PLAIN LOGIN");
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) {
    text += Cat("250", i + 1 < lines.size() ? '-' : ' ', lines[i], "\r\n");
  }
  return {text};
}

SessionOutput SmtpSession::Mail(std::string_view arg) {
  if (in_transaction_) return Reply("503 5.5.1 Nested MAIL command");
  if (!StartsWithIgnoreCase(arg, "FROM:")) return Reply("501 5.5.4 Syntax: MAIL FROM:<address>");
  std::string address;
  std::string_view rest;
  if (!ParsePath(arg.substr(5), &address, &rest))
    return Reply("501 5.1.7 Bad sender address syntax");
  for (std::string_view param : SplitSpaces(rest)) {
    if (!esmtp_) return Reply("555 5.5.4 MAIL parameters need EHLO");
    if (StartsWithIgnoreCase(param, "SIZE=")) {
      uint64_t size = 0;
      if (!absl::SimpleAtoi(std::string(param.substr(5)), &size)) {
        return Reply("501 5.5.4 Bad SIZE parameter");
      }
      if (size > config_.max_message_bytes) {
        return Reply("552 5.3.4 Message size exceeds fixed maximum message size");
      }
    } else if (StartsWithIgnoreCase(param, "BODY=")) {
      std::string_view body = param.substr(5);
      if (!EqualsIgnoreCase(body, "7BIT") && !EqualsIgnoreCase(body, "8BITMIME")) {
        return Reply("501 5.5.4 Unsupported BODY type");
      }
    } else if (StartsWithIgnoreCase(param, "AUTH=")) {
      // RFC 4954 5: we keep no trust relationships, so the value is ignored.
    } else {
      return Reply("555 5.5.4 Unsupported MAIL parameter");
    }
  }
  if (!address.empty()) {
    std::string local, domain;
    if (!SplitAddress(address, &local, &domain))
      return Reply("501 5.1.7 Bad sender address syntax");
  }
  if (std::string refusal = SenderRefusal(address); !refusal.empty()) return Reply(refusal);
  in_transaction_ = true;
  envelope_ = Envelope();
  envelope_.sender = address;
  envelope_.authenticated_user = user_;
  envelope_.client_address = peer_;
  envelope_.helo = helo_;
  return Reply("250 2.1.0 Sender OK");
}

SessionOutput SmtpSession::Rcpt(std::string_view arg) {
  if (!in_transaction_) return Reply("503 5.5.1 Need MAIL before RCPT");
  if (!StartsWithIgnoreCase(arg, "TO:")) return Reply("501 5.5.4 Syntax: RCPT TO:<address>");
  std::string address;
  std::string_view rest;
  if (!ParsePath(arg.substr(3), &address, &rest)) {
    return Reply("501 5.1.3 Bad recipient address syntax");
  }
  if (!Trim(rest).empty()) return Reply("555 5.5.4 Unsupported RCPT parameter");
  std::string local, domain;
  if (!SplitAddress(address, &local, &domain)) {
    return Reply("501 5.1.3 Bad recipient address syntax");
  }
  if (envelope_.recipients.size() >= config_.max_recipients) {
    return Reply("452 4.5.3 Too many recipients");
  }
  if (domain == ToLower(config_.domain)) {
    auto exists = backend_.LocalUserExists(local);
    if (!exists.ok()) return Reply("451 4.3.0 Mailbox lookup failed, try again later");
    if (!*exists) return Reply("550 5.1.1 No such user here");
  } else if (user_.empty()) {
    return Reply("554 5.7.1 Relay access denied: authenticate to send to other domains");
  } else {
    auto allowed = backend_.MaySendOutside(user_);
    if (!allowed.ok()) return Reply("451 4.3.0 Account lookup failed, try again later");
    if (!*allowed) {
      return Reply(Cat("550 5.7.1 New accounts may send only within ", config_.domain,
                       " for now; an admin can allow more"));
    }
  }
  envelope_.recipients.push_back(address);
  return Reply("250 2.1.5 Recipient OK");
}

SessionOutput SmtpSession::Auth(std::string_view arg) {
  if (!user_.empty()) return Reply("503 5.5.1 Already authenticated");
  if (in_transaction_) return Reply("503 5.5.1 AUTH not allowed during a mail transaction");
  std::vector<std::string_view> words = SplitSpaces(arg);
  if (words.empty() || words.size() > 2) return Reply("501 5.5.4 Syntax: AUTH mechanism");
  std::string_view initial = words.size() == 2 ? words[1] : std::string_view();
  if (EqualsIgnoreCase(words[0], "PLAIN")) {
    state_ = State::kAuthPlain;
    if (words.size() == 1) return Reply("334 ");  // RFC 4954: an empty challenge
    return AuthResponse(initial);
  }
  if (EqualsIgnoreCase(words[0], "LOGIN")) {
    state_ = State::kAuthLoginUser;
    if (words.size() == 1) return Reply("334 VXNlcm5hbWU6");  // "Username:"
    return AuthResponse(initial);
  }
  return Reply("504 5.5.4 Unrecognized authentication mechanism");
}

SessionOutput SmtpSession::AuthResponse(std::string_view line) {
  State state = state_;
  state_ = State::kReady;
  line = Trim(line);
  if (line == "*") return Reply("501 5.7.0 Authentication cancelled");
  std::string decoded;
  // "=" is an empty initial response (RFC 4954 4).
  if (line != "=" && !Base64Decode(line, &decoded)) {
    return Reply("501 5.5.2 Cannot decode response");
  }
  if (state == State::kAuthLoginUser) {
    login_user_ = decoded;
    state_ = State::kAuthLoginPass;
    return Reply("334 UGFzc3dvcmQ6");  // "Password:"
  }
  if (state == State::kAuthLoginPass) {
    std::string user = std::move(login_user_);
    login_user_.clear();
    return FinishAuth(user, decoded);
  }
  // PLAIN: authzid NUL authcid NUL passwd (RFC 4616).
  size_t first = decoded.find('\0');
  size_t second = first == std::string::npos ? first : decoded.find('\0', first + 1);
  if (second == std::string::npos) return Reply("501 5.5.2 Malformed PLAIN response");
  std::string authzid = decoded.substr(0, first);
  std::string authcid = decoded.substr(first + 1, second - first - 1);
  if (!authzid.empty() && authzid != authcid) {
    return Reply("535 5.7.8 Authentication credentials invalid");
  }
  return FinishAuth(authcid, decoded.substr(second + 1));
}

SessionOutput SmtpSession::FinishAuth(std::string_view user, std::string_view password) {
  // Thunderbird and others may send the full address as the user name.
  std::string local, domain;
  std::string name(user);
  if (SplitAddress(user, &local, &domain) && domain == ToLower(config_.domain)) name = local;
  auto checked = backend_.Authenticate(name, password);
  if (checked.ok()) {
    user_ = *checked;
    return Reply("235 2.7.0 Authentication successful");
  }
  if (absl::IsUnauthenticated(checked.status()) || absl::IsInvalidArgument(checked.status())) {
    return Reply("535 5.7.8 Authentication credentials invalid");
  }
  if (absl::IsResourceExhausted(checked.status())) {
    // The account's back-off or this address's attempt limit; the message says which.
    return Reply(Cat("454 4.7.0 ", std::string(checked.status().message())));
  }
  return Reply("454 4.7.0 Temporary authentication failure");
}

std::string SmtpSession::SenderRefusal(std::string_view address) const {
  std::string local, domain;
  bool parsed = SplitAddress(address, &local, &domain);
  if (!user_.empty()) {
    // Usernames are lower case, so the own address compares case-insensitively.
    if (parsed && domain == ToLower(config_.domain) && ToLower(local) == user_) return "";
    return Cat("553 5.7.1 Sender must be your own address <", user_, "@", config_.domain, ">");
  }
  if (parsed && domain == ToLower(config_.domain)) {
    return "550 5.7.1 Authenticate to send as a local address";
  }
  return "";
}

std::string SmtpSession::FromHeaderRefusal(std::string_view message) const {
  FromHeader from = ReadFromHeader(message);
  if (from.fields > 1) return "554 5.6.0 A message has one From: header, not several";
  if (from.fields == 1 && !user_.empty() && from.addresses.empty()) {
    return "553 5.7.1 From: header must be your own address";
  }
  for (const std::string& address : from.addresses) {
    std::string refusal = SenderRefusal(address);
    if (!refusal.empty()) {
      return user_.empty() ? "550 5.7.1 Authenticate to send with a local From: address"
                           : "553 5.7.1 From: header must be your own address";
    }
  }
  return "";
}

SessionOutput SmtpSession::DataLine(std::string_view line, bool bare_lf) {
  if (bare_lf || line.find('\r') != std::string_view::npos) {
    // As Postfix's smtpd_forbid_bare_newline: the client and we might disagree on where
    // the message ends, so nothing more it sends is trusted.
    ResetTransaction();
    state_ = State::kReady;
    SessionOutput out = Reply("521 5.5.2 Bare LF or CR in message text; lines must end in CRLF");
    out.close = true;
    return out;
  }
  if (line == ".") return EndOfData();
  if (!line.empty() && line.front() == '.') line.remove_prefix(1);  // dot-unstuffing
  if (data_too_big_ || data_.size() + line.size() + 2 > config_.max_message_bytes) {
    data_too_big_ = true;
    data_.clear();
    return {};
  }
  data_.append(line);
  data_.append("\r\n");
  return {};
}

std::string SmtpSession::ReceivedHeader() const {
  std::string with = esmtp_ ? "ESMTP" : "SMTP";
  if (tls_) with += "S";
  if (!user_.empty()) with += "A";
  std::string header = Cat("Received: from ", helo_.empty() ? "unknown" : helo_, " (", peer_,
                           ")\r\n\tby ", config_.hostname, " (PennCloud) with ", with);
  if (envelope_.recipients.size() == 1) {
    header += Cat("\r\n\tfor <", envelope_.recipients[0], ">");
  }
  return Cat(header, "; ", date_(), "\r\n");
}

SessionOutput SmtpSession::EndOfData() {
  state_ = State::kReady;
  if (data_too_big_) {
    ResetTransaction();
    return Reply("552 5.3.4 Message too big for system");
  }
  if (std::string refusal = FromHeaderRefusal(data_); !refusal.empty()) {
    ResetTransaction();
    return Reply(refusal);
  }
  std::string message = ReceivedHeader() + data_;
  auto id = backend_.Deliver(envelope_, message);
  ResetTransaction();
  if (absl::IsPermissionDenied(id.status())) {
    return Reply(Cat("550 5.7.1 ", std::string(id.status().message())));
  }
  if (!id.ok()) return Reply("451 4.3.0 Could not store message, try again later");
  return Reply(Cat("250 2.0.0 OK: queued as ", *id));
}

}  // namespace penncloud::mail
