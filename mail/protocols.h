// The SMTP and POP3 sessions as LineServer protocols.
#pragma once

#include <memory>
#include <string>

#include "mail/address_limits.h"
#include "mail/line_server.h"
#include "mail/pop3_session.h"
#include "mail/smtp_session.h"
#include "mail/text.h"

namespace penncloud::mail {

// The longest line each server keeps, not counting its CRLF. RFC 5321 allows 1000-octet
// SMTP text lines; we keep up to 64 KiB so that sloppy clients' long lines still arrive,
// and refuse beyond (commands have their own, smaller cap: SmtpConfig::max_command_bytes).
inline constexpr size_t kMaxSmtpLineBytes = 64 << 10;
// RFC 2449: 255 octets suffice for any POP3 command.
inline constexpr size_t kMaxPop3LineBytes = 1024;

// What a login refused by the address limit returns (SMTP 454, POP3 -ERR [AUTH]).
inline absl::Status TooManyAttempts() {
  return absl::ResourceExhaustedError("too many login attempts from your address; try later");
}

// `authenticate`, with each attempt counted against `peer`'s address first.
inline Authenticator LimitLogins(Authenticator authenticate, AddressLimits* limits,
                                 std::string peer) {
  if (limits == nullptr) return authenticate;
  return [authenticate = std::move(authenticate), limits, peer = std::move(peer)](
             std::string_view user, std::string_view password) -> absl::StatusOr<std::string> {
    if (!limits->AllowLoginAttempt(peer)) return TooManyAttempts();
    return authenticate(user, password);
  };
}

class SmtpLineProtocol final : public LineProtocol {
 public:
  // `limits` (may be null) caps this client address's login attempts.
  SmtpLineProtocol(const SmtpConfig& config, SmtpBackend& backend, std::string peer,
                   AddressLimits* limits = nullptr)
      : backend_(backend, limits, peer), session_(config, backend_, peer, Rfc5322Date) {}
  std::string Greeting() override { return session_.Greeting(); }
  SessionOutput OnLine(std::string_view line, bool bare_lf) override {
    return session_.OnLine(line, bare_lf);
  }
  SessionOutput OnLineTooLong() override { return session_.OnLineTooLong(); }
  void OnTlsStarted() override { session_.OnTlsStarted(); }
  size_t MaxLineBytes() const override { return kMaxSmtpLineBytes; }
  // Only a message whose content is arriving holds a shutdown back: between commands (even
  // after MAIL or RCPT) the 421 below is an answer every client retries after, and a
  // session idling in an open transaction would otherwise hold the drain to its bound.
  bool Busy() const override { return session_.in_data(); }
  // RFC 5321 3.8: the server may close with 421 when it must shut down.
  std::string ShutdownNotice() const override {
    return "421 4.3.2 Service shutting down, try again later\r\n";
  }

 private:
  // The server's backend, with AUTH attempts counted against the client's address first.
  class LimitedBackend final : public SmtpBackend {
   public:
    LimitedBackend(SmtpBackend& inner, AddressLimits* limits, std::string peer)
        : inner_(inner), limits_(limits), peer_(std::move(peer)) {}
    absl::StatusOr<std::string> Authenticate(std::string_view user,
                                             std::string_view password) override {
      if (limits_ != nullptr && !limits_->AllowLoginAttempt(peer_)) return TooManyAttempts();
      return inner_.Authenticate(user, password);
    }
    absl::StatusOr<bool> LocalUserExists(std::string_view user) override {
      return inner_.LocalUserExists(user);
    }
    absl::StatusOr<bool> MaySendOutside(std::string_view user) override {
      return inner_.MaySendOutside(user);
    }
    absl::StatusOr<std::string> Deliver(const Envelope& envelope,
                                        std::string_view message) override {
      return inner_.Deliver(envelope, message);
    }

   private:
    SmtpBackend& inner_;
    AddressLimits* limits_;
    std::string peer_;
  };

  LimitedBackend backend_;
  SmtpSession session_;
};

class Pop3LineProtocol final : public LineProtocol {
 public:
  // `limits` (may be null) caps the login attempts of the client at `peer`.
  Pop3LineProtocol(const Pop3Config& config, MailStore& store, Authenticator authenticate,
                   std::string owner, AddressLimits* limits = nullptr, std::string peer = "")
      : session_(config, store, LimitLogins(std::move(authenticate), limits, std::move(peer)),
                 std::move(owner)) {}
  std::string Greeting() override { return session_.Greeting(); }
  // Bare LF is tolerated here: POP3 carries no message data from the client.
  SessionOutput OnLine(std::string_view line, bool) override { return session_.OnLine(line); }
  SessionOutput OnLineTooLong() override { return session_.OnLineTooLong(); }
  void OnTlsStarted() override { session_.OnTlsStarted(); }
  void OnDisconnect() override { session_.OnDisconnect(); }
  size_t MaxLineBytes() const override { return kMaxPop3LineBytes; }

 private:
  Pop3Session session_;
};

}  // namespace penncloud::mail
