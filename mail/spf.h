// SPF (RFC 7208) with libspf2: may the client at this address send for the MAIL FROM domain
// (or, for the null sender, the HELO name)? libspf2 evaluates the record and its
// mechanisms; every DNS query it makes goes through our DnsResolver (a DNS layer of its own
// kind, so it never reads resolv.conf). libspf2 answers "pass" for loopback clients.
#pragma once

#include <string>
#include <string_view>

#include "mail/dns_resolver.h"

namespace penncloud::mail {

struct SpfResult {
  std::string result;    // pass, fail, softfail, neutral, none, temperror, permerror
  std::string identity;  // "mailfrom" or "helo": what was checked (RFC 8601 smtp.mailfrom/helo)
  std::string domain;    // the domain checked
  std::string comment;   // libspf2's explanation for the header
};

// `client_ip` is the address the SMTP client connected from (IPv4 or IPv6 text).
// `mail_from` is the reverse path ("" for <>).
SpfResult CheckSpf(DnsResolver& resolver, std::string_view client_ip, std::string_view helo,
                   std::string_view mail_from);

}  // namespace penncloud::mail
