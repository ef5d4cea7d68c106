// The client half of SMTP, for relaying queued mail to another server: EHLO (HELO as a
// fallback), opportunistic STARTTLS, MAIL, one RCPT per recipient, DATA with dot-stuffing,
// QUIT. Every step has a deadline. The outcome is per recipient, because a server may
// accept some recipients and refuse others.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace penncloud::mail {

enum class RecipientOutcome { kDelivered, kTemporaryFailure, kPermanentFailure };

struct RecipientResult {
  std::string recipient;
  RecipientOutcome outcome;
  std::string reply;  // the server's reply (or our own error text) for the bounce/log
};

struct SmtpClientOptions {
  std::string helo = "penncloud.local";
  std::chrono::milliseconds timeout{30000};  // per step
  boost::asio::ssl::context* tls = nullptr;  // null: never STARTTLS
};

std::vector<RecipientResult> SendMail(const std::string& host, int port, const std::string& sender,
                                      const std::vector<std::string>& recipients,
                                      const std::string& message, const SmtpClientOptions& options);

// The mail exchangers of `domain`, best first; the domain itself if it has no MX record.
std::vector<std::string> LookupMx(const std::string& domain);

}  // namespace penncloud::mail
