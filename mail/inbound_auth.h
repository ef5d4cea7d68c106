// What PennCloud concludes about mail arriving from other domains (an SMTP client that did
// not log in): SPF for the client address and MAIL FROM/HELO, every DKIM signature, and
// DMARC for the From: domain, written into an Authentication-Results field (RFC 8601) under
// our authserv-id. Fields that already carry our authserv-id were not written by us and are
// removed first, so nobody can hand us a "pass". Failing mail whose domain asks for
// quarantine goes to Junk; for reject it is refused (550 5.7.1 at the end of DATA).
#pragma once

#include <string>
#include <string_view>

#include "mail/delivery.h"
#include "mail/dns_resolver.h"

namespace penncloud::mail {

class InboundAuth {
 public:
  InboundAuth(DnsResolver& resolver, std::string authserv_id)
      : resolver_(resolver), authserv_id_(std::move(authserv_id)) {}

  InboundDecision Check(std::string_view client_ip, std::string_view helo,
                        std::string_view mail_from, std::string_view message);
  // As an InboundCheck for Delivery.
  InboundDecision operator()(const Envelope& envelope, std::string_view message) {
    return Check(envelope.client_address, envelope.helo, envelope.sender, message);
  }

 private:
  DnsResolver& resolver_;
  const std::string authserv_id_;
};

// `message` without the Authentication-Results fields whose authserv-id is `authserv_id`
// (compared without case); other fields stay byte for byte.
std::string StripAuthenticationResults(std::string_view message, std::string_view authserv_id);

// The authserv-id of an Authentication-Results field value: the first token, after any
// white space and comments. "" if there is none.
std::string AuthservIdOf(std::string_view value);

}  // namespace penncloud::mail
