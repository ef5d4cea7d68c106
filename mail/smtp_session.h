// One SMTP session (RFC 5321 with RFC 1870 SIZE, 6152 8BITMIME, 2920 PIPELINING, 2034
// ENHANCEDSTATUSCODES, 3207 STARTTLS and 4954 AUTH PLAIN/LOGIN) as a pure state machine:
// lines in (without their CRLF), reply text out. No sockets, threads or clocks inside, so
// every exchange is unit-testable; SmtpServer glues it to the network.
//
// Relaying rule: recipients in the local domain are accepted from anyone; recipients
// elsewhere only from an authenticated client whose account may send outside (a new
// account waits, unless an admin allowed it: accounts/sending_policy.h). A message is answered 250
// only after the backend reports it durably stored (delivered locally and/or queued for relay).
//
// Who may say what (issue 16): AUTH is offered and accepted only under TLS (530 before),
// so no password crosses the wire in clear. An authenticated client may use only its own
// address in MAIL FROM and in the From: header (553 5.7.1); a client that has not
// authenticated may not claim a local-domain sender in either (550 5.7.1). Message lines
// must end in CRLF: a bare LF (or lone CR) inside DATA ends the session with 521, so no
// ".<LF>" can end a message early and smuggle the bytes after it in as commands.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/session_output.h"

namespace penncloud::mail {

struct Envelope {
  std::string sender;                   // MAIL FROM path, "" for the null sender <>
  std::vector<std::string> recipients;  // RCPT TO paths, as given
  std::string authenticated_user;       // "" if the client did not authenticate
  std::string client_address;           // the client's IP address, for SPF
  std::string helo;                     // the name it gave in HELO/EHLO
};

// What the session needs from the rest of the system.
class SmtpBackend {
 public:
  virtual ~SmtpBackend() = default;
  // The normalized user name if the credentials are right; kUnauthenticated if not.
  virtual absl::StatusOr<std::string> Authenticate(std::string_view user,
                                                   std::string_view password) = 0;
  virtual absl::StatusOr<bool> LocalUserExists(std::string_view user) = 0;
  // Whether the authenticated `user` may send to other domains yet (new accounts wait).
  virtual absl::StatusOr<bool> MaySendOutside(std::string_view user) = 0;
  // Stores the message durably for every recipient; returns a queue id for the reply.
  // kPermissionDenied refuses the message for good (550 5.7.1 with the status message).
  virtual absl::StatusOr<std::string> Deliver(const Envelope& envelope,
                                              std::string_view message) = 0;
};

struct SmtpConfig {
  std::string hostname = "penncloud.local";  // our name in the banner and Received
  std::string domain = "penncloud.local";    // the local mail domain
  size_t max_message_bytes = 32 << 20;
  size_t max_recipients = 100;
  size_t max_command_bytes = 4096;  // RFC 5321 needs 512; AUTH initial responses need more
  bool tls_available = false;       // offer STARTTLS
};

class SmtpSession {
 public:
  // `peer` is the client's address (for the Received header); `date` supplies the current
  // time as an RFC 5322 date string.
  SmtpSession(const SmtpConfig& config, SmtpBackend& backend, std::string peer,
              std::function<std::string()> date);

  std::string Greeting() const;
  // `bare_lf`: the line ended in LF without the CR before it.
  SessionOutput OnLine(std::string_view line, bool bare_lf = false);
  // The reader saw a line longer than it keeps; the session answers as for a bad line.
  SessionOutput OnLineTooLong();
  // The TLS handshake finished (after STARTTLS, or before the greeting on an implicit-TLS
  // port): RFC 3207 says forget everything learned before it.
  void OnTlsStarted();

  bool in_data() const { return state_ == State::kData; }
  // Between MAIL and the end of DATA (or RSET): a message is on its way.
  bool in_transaction() const { return in_transaction_ || in_data(); }
  const std::string& authenticated_user() const { return user_; }

 private:
  enum class State { kStart, kReady, kData, kAuthPlain, kAuthLoginUser, kAuthLoginPass };

  SessionOutput Command(std::string_view line);
  SessionOutput DataLine(std::string_view line, bool bare_lf);
  SessionOutput Ehlo(std::string_view arg, bool extended);
  SessionOutput Mail(std::string_view arg);
  SessionOutput Rcpt(std::string_view arg);
  SessionOutput Auth(std::string_view arg);
  SessionOutput AuthResponse(std::string_view line);
  SessionOutput FinishAuth(std::string_view user, std::string_view password);
  SessionOutput EndOfData();
  // The reply refusing `address` as this session's sender, or "" if it may use it.
  std::string SenderRefusal(std::string_view address) const;
  // The same for the From: header of `message`.
  std::string FromHeaderRefusal(std::string_view message) const;
  void ResetTransaction();
  std::string ReceivedHeader() const;

  const SmtpConfig& config_;
  SmtpBackend& backend_;
  const std::string peer_;
  std::function<std::string()> date_;

  State state_ = State::kStart;
  std::string helo_;
  bool esmtp_ = false;
  bool tls_ = false;
  std::string user_;        // authenticated user, "" if none
  std::string login_user_;  // AUTH LOGIN: the user name, while waiting for the password
  bool in_transaction_ = false;
  Envelope envelope_;
  std::string data_;
  bool data_too_big_ = false;
};

// Extracts the address from a path: "<a@b>" -> "a@b", "<@r1,@r2:a@b>" -> "a@b".
// Returns false on syntax errors.
bool ParsePath(std::string_view text, std::string* address, std::string_view* rest);
// Splits "user@domain" (domain lower-cased).
bool SplitAddress(std::string_view address, std::string* local, std::string* domain);

}  // namespace penncloud::mail
