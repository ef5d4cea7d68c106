// One POP3 session (RFC 1939 with RFC 2449 CAPA, RFC 5034 SASL PLAIN/LOGIN, RFC 2595 STLS)
// as a state machine over the mailbox store: lines in, reply text out, no sockets inside.
// USER, PASS, APOP and AUTH are neither offered (CAPA) nor accepted before TLS: a password
// never crosses the wire in clear.
//
// The session sees the Inbox as it was at login (message numbers stay fixed); DELE only
// marks, and the marked messages move to Trash when QUIT ends the TRANSACTION state (so
// webmail and IMAP can still restore them). A dropped connection (OnDisconnect) moves nothing. Only
// one session may hold a mailbox: the store's lease, renewed while the session is active, enforces
// it across servers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/mail_store.h"
#include "mail/session_output.h"

namespace penncloud::mail {

struct Pop3Config {
  std::string hostname = "penncloud.local";
  std::string domain = "penncloud.local";
  bool tls_available = false;
  int64_t lease_micros = 10 * 60 * 1'000'000LL;  // RFC 1939's 10-minute autologout
};

// Returns the normalized user name for right credentials, kUnauthenticated otherwise.
using Authenticator =
    std::function<absl::StatusOr<std::string>(std::string_view user, std::string_view password)>;

class Pop3Session {
 public:
  // `owner` names this session in the mailbox lease (unique per connection).
  Pop3Session(const Pop3Config& config, MailStore& store, Authenticator authenticate,
              std::string owner, std::function<int64_t()> now_micros = nullptr);

  std::string Greeting() const;
  SessionOutput OnLine(std::string_view line);
  SessionOutput OnLineTooLong();
  // TLS is up (after STLS, or before the greeting on the implicit-TLS port). Logins are
  // accepted only from then on; anything learned before is forgotten (RFC 2595 3.1).
  void OnTlsStarted() {
    tls_ = true;
    pending_user_.clear();
  }
  // The connection went away without QUIT: release the mailbox, delete nothing.
  void OnDisconnect();

 private:
  enum class State { kAuthorization, kAuthPlain, kAuthLoginUser, kAuthLoginPass, kTransaction };
  struct Entry {
    pb::MessageMeta meta;
    bool deleted = false;
  };

  SessionOutput Authorization(std::string_view verb, std::string_view arg);
  SessionOutput Transaction(std::string_view verb, std::string_view arg);
  SessionOutput SaslResponse(std::string_view line);
  SessionOutput Login(std::string_view user, std::string_view password);
  SessionOutput Capabilities() const;
  SessionOutput Quit();
  // Message `arg` (1-based, not deleted), or nullptr with `error` set.
  Entry* Message(std::string_view arg, std::string* error);
  bool RenewLease();

  const Pop3Config& config_;
  MailStore& store_;
  Authenticator authenticate_;
  const std::string owner_;
  std::function<int64_t()> now_micros_;

  State state_ = State::kAuthorization;
  bool tls_ = false;
  std::string pending_user_;  // USER name, or AUTH LOGIN user name
  std::string user_;          // set once in TRANSACTION
  std::vector<Entry> messages_;
  int64_t lease_renewed_ = 0;
};

}  // namespace penncloud::mail
