#include "mail/inbound_auth.h"

#include "common/log.h"
#include "mail/dkim.h"
#include "mail/dmarc.h"
#include "mail/header_fields.h"
#include "mail/mime.h"
#include "mail/spf.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

// Values from outside (domains, selectors) as they may appear in the header: only the
// characters of domain names and selectors, so nothing can end the field or open a comment.
std::string Token(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 255)) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '_' || c == '+' || c == '/' || c == '=') {
      out.push_back(c);
    }
  }
  return out.empty() ? "unknown" : out;
}

// The one domain of the From: field, or "" if it has none or several (RFC 7489 6.6.1).
std::string FromDomain(std::string_view message) {
  std::string domain;
  for (const std::string& address : ReadFromHeader(message).addresses) {
    size_t at = address.rfind('@');
    if (at == std::string::npos) return "";
    std::string d = ToLower(address.substr(at + 1));
    if (!domain.empty() && d != domain) return "";
    domain = d;
  }
  return domain;
}

// Free text (libopendkim's reasons) as a header comment: printable ASCII without parentheses.
std::string Comment(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 120)) {
    if (c >= ' ' && c <= '~' && c != '(' && c != ')' && c != '\\') out.push_back(c);
  }
  return out;
}

}  // namespace

std::string AuthservIdOf(std::string_view value) {
  size_t i = 0;
  int depth = 0;
  while (i < value.size()) {
    char c = value[i];
    if (depth > 0) {
      if (c == '(') ++depth;
      if (c == ')') --depth;
      i += c == '\\' ? 2 : 1;  // a quoted pair; may step past the end
    } else if (c == '(') {
      ++depth;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else {
      break;
    }
  }
  if (i >= value.size()) return "";  // only comments (a last "\\" skipped past the end)
  size_t end = value.find_first_of(" \t\r\n;(", i);
  return ToLower(value.substr(i, end == std::string_view::npos ? end : end - i));
}

std::string StripAuthenticationResults(std::string_view message, std::string_view authserv_id) {
  HeaderSection header = SplitHeader(message);
  std::string ours = ToLower(authserv_id);
  std::string out;
  out.reserve(message.size());
  size_t copied = 0;  // message[copied, field start) is still to be copied
  for (std::string_view field : header.fields) {
    if (!EqualsIgnoreCase(FieldName(field), "Authentication-Results") ||
        AuthservIdOf(FieldValue(field)) != ours) {
      continue;
    }
    size_t start = static_cast<size_t>(field.data() - message.data());
    size_t end = start + field.size();
    if (message.substr(end, 2) == "\r\n") end += 2;
    out.append(message.substr(copied, start - copied));
    copied = end;
  }
  out.append(message.substr(copied));
  return out;
}

InboundDecision InboundAuth::Check(std::string_view client_ip, std::string_view helo,
                                   std::string_view mail_from, std::string_view message) {
  SpfResult spf = CheckSpf(resolver_, client_ip, helo, mail_from);
  std::vector<DkimResult> dkim = VerifyDkim(message, resolver_);
  DmarcResult dmarc = CheckDmarc(resolver_, client_ip, FromDomain(message), spf, dkim);

  std::string header = Cat("Authentication-Results: ", authserv_id_, ";\r\n\tspf=", spf.result,
                           " smtp.", spf.identity, "=", Token(spf.domain));
  if (dkim.empty()) header += ";\r\n\tdkim=none";
  for (const DkimResult& d : dkim) {
    header += Cat(";\r\n\tdkim=", d.result);
    if (!d.reason.empty()) header += Cat(" (", Comment(d.reason), ")");
    header += Cat(" header.d=", Token(d.domain), " header.s=", Token(d.selector));
    if (!d.algorithm.empty()) header += Cat(" header.a=", Token(d.algorithm));
    if (!d.signature.empty()) header += Cat(" header.b=", Token(d.signature));
  }
  header += Cat(";\r\n\tdmarc=", dmarc.result);
  if (dmarc.result == "fail") header += Cat(" (p=", PolicyName(dmarc.policy), ")");
  if (!dmarc.from_domain.empty()) header += Cat(" header.from=", Token(dmarc.from_domain));
  header += "\r\n";

  InboundDecision decision;
  decision.action = InboundDecision::Action::kDeliver;
  if (dmarc.result == "fail" && dmarc.policy == DmarcPolicy::kReject) {
    decision.action = InboundDecision::Action::kReject;
    decision.reason = Cat("Message rejected by the DMARC policy of ", Token(dmarc.from_domain));
  } else if (dmarc.result == "fail" && dmarc.policy == DmarcPolicy::kQuarantine) {
    decision.action = InboundDecision::Action::kJunk;
  }
  PC_LOG(kInfo, "mail.auth")
  ("client", client_ip)("spf", spf.result)("dkim", dkim.size())("dmarc", dmarc.result)(
      "from_domain", dmarc.from_domain)("action", static_cast<int>(decision.action));
  decision.message = Cat(header, StripAuthenticationResults(message, authserv_id_));
  return decision;
}

}  // namespace penncloud::mail
