// The SMTP and POP3 sessions as LineServer protocols.
#pragma once

#include <memory>
#include <string>

#include "mail/line_server.h"
#include "mail/pop3_session.h"
#include "mail/smtp_session.h"
#include "mail/text.h"

namespace penncloud::mail {

class SmtpLineProtocol final : public LineProtocol {
 public:
  SmtpLineProtocol(const SmtpConfig& config, SmtpBackend& backend, std::string peer)
      : session_(config, backend, std::move(peer), Rfc5322Date) {}
  std::string Greeting() override { return session_.Greeting(); }
  SessionOutput OnLine(std::string_view line) override { return session_.OnLine(line); }
  SessionOutput OnLineTooLong() override { return session_.OnLineTooLong(); }
  void OnTlsStarted() override { session_.OnTlsStarted(); }
  // RFC 5321 allows 1000-octet text lines; we keep up to 64 KiB so that sloppy clients'
  // long lines still arrive, and refuse beyond.
  size_t MaxLineBytes() const override { return 64 << 10; }
  bool Busy() const override { return session_.in_transaction(); }
  // RFC 5321 3.8: the server may close with 421 when it must shut down.
  std::string ShutdownNotice() const override {
    return "421 4.3.2 Service shutting down, try again later\r\n";
  }

 private:
  SmtpSession session_;
};

class Pop3LineProtocol final : public LineProtocol {
 public:
  Pop3LineProtocol(const Pop3Config& config, MailStore& store, Authenticator authenticate,
                   std::string owner)
      : session_(config, store, std::move(authenticate), std::move(owner)) {}
  std::string Greeting() override { return session_.Greeting(); }
  SessionOutput OnLine(std::string_view line) override { return session_.OnLine(line); }
  SessionOutput OnLineTooLong() override { return session_.OnLineTooLong(); }
  void OnTlsStarted() override { session_.OnTlsStarted(); }
  void OnDisconnect() override { session_.OnDisconnect(); }
  size_t MaxLineBytes() const override { return 1024; }  // RFC 2449: 255 octets suffice

 private:
  Pop3Session session_;
};

}  // namespace penncloud::mail
