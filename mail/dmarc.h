// DMARC (RFC 7489) with libopendmarc: does the From: domain's policy accept this message,
// given its SPF and DKIM results? The policy record is fetched through our DnsResolver
// (`_dmarc.<from domain>`, else `_dmarc.<organizational domain>`) and handed to
// libopendmarc to parse and apply; libopendmarc does the alignment (adkim/aspf) and picks
// p= or sp=.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mail/dkim.h"
#include "mail/dns_resolver.h"
#include "mail/spf.h"

namespace penncloud::mail {

enum class DmarcPolicy { kNone, kQuarantine, kReject };

struct DmarcResult {
  std::string result;  // pass, fail, none, temperror, permerror (RFC 8601 2.7.1)
  DmarcPolicy policy = DmarcPolicy::kNone;  // what the domain asks for failing mail
  std::string from_domain;                  // header.from
};

// The organizational domain: the last two labels ("mail.example.org" -> "example.org").
// Without the public suffix list, a domain under a two-label suffix ("co.uk") is taken for
// its own organization, which only matters for subdomain records and relaxed alignment.
std::string OrganizationalDomain(std::string_view domain);

DmarcResult CheckDmarc(DnsResolver& resolver, std::string_view client_ip,
                       std::string_view from_domain, const SpfResult& spf,
                       const std::vector<DkimResult>& dkim);

std::string_view PolicyName(DmarcPolicy policy);

}  // namespace penncloud::mail
