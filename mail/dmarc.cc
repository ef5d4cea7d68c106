#include "mail/dmarc.h"

#include <netinet/in.h>
#include <sys/types.h>

#include <cstring>
#include <memory>
#include <mutex>

extern "C" {
#include <opendmarc/dmarc.h>
}

#include "mail/text.h"

namespace penncloud::mail {
namespace {

u_char* Bytes(const std::string& s) {
  return reinterpret_cast<u_char*>(const_cast<char*>(s.c_str()));
}

void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    static OPENDMARC_LIB_T lib;
    std::memset(&lib, 0, sizeof(lib));
    lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
    opendmarc_policy_library_init(&lib);
  });
}

// The DMARC record of `name` (`_dmarc.<domain>`): kOk with the one "v=DMARC1" record.
DnsStatus FindRecord(DnsResolver& resolver, const std::string& domain, std::string* record) {
  DnsAnswer answer = resolver.Lookup(Cat("_dmarc.", domain), DnsType::kTxt);
  if (answer.status == DnsStatus::kTempError) return answer.status;
  int found = 0;
  for (const std::string& r : answer.records) {
    if (StartsWithIgnoreCase(Trim(r), "v=DMARC1")) {
      *record = r;
      ++found;
    }
  }
  // RFC 7489 6.6.3: anything but exactly one record is no policy.
  return found == 1 ? DnsStatus::kOk : DnsStatus::kNoData;
}

struct PolicyFree {
  void operator()(DMARC_POLICY_T* p) const { opendmarc_policy_connect_shutdown(p); }
};

}  // namespace

std::string OrganizationalDomain(std::string_view domain) {
  std::string d = ToLower(domain);
  size_t last = d.rfind('.');
  if (last == std::string::npos || last == 0) return d;
  size_t before = d.rfind('.', last - 1);
  return before == std::string::npos ? d : d.substr(before + 1);
}

std::string_view PolicyName(DmarcPolicy policy) {
  switch (policy) {
    case DmarcPolicy::kNone:
      return "none";
    case DmarcPolicy::kQuarantine:
      return "quarantine";
    case DmarcPolicy::kReject:
      return "reject";
  }
  return "none";
}

DmarcResult CheckDmarc(DnsResolver& resolver, std::string_view client_ip,
                       std::string_view from_domain, const SpfResult& spf,
                       const std::vector<DkimResult>& dkim) {
  InitLibrary();
  DmarcResult out;
  out.from_domain = ToLower(from_domain);
  if (out.from_domain.empty()) {
    out.result = "none";
    return out;
  }
  std::string record;
  std::string org = OrganizationalDomain(out.from_domain);
  DnsStatus found = FindRecord(resolver, out.from_domain, &record);
  if (found == DnsStatus::kNoData && org != out.from_domain) {
    found = FindRecord(resolver, org, &record);
  }
  if (found == DnsStatus::kTempError) {
    out.result = "temperror";
    return out;
  }
  if (found != DnsStatus::kOk) {
    out.result = "none";
    return out;
  }
  std::string ip(client_ip);
  int ip_type =
      ip.find(':') != std::string::npos ? DMARC_POLICY_IP_TYPE_IPV6 : DMARC_POLICY_IP_TYPE_IPV4;
  std::unique_ptr<DMARC_POLICY_T, PolicyFree> policy(
      opendmarc_policy_connect_init(Bytes(ip), ip_type));
  if (policy == nullptr) {
    out.result = "temperror";
    return out;
  }
  if (opendmarc_policy_store_dmarc(policy.get(), Bytes(record), Bytes(out.from_domain),
                                   Bytes(org)) != DMARC_PARSE_OKAY) {
    out.result = "permerror";
    return out;
  }
  for (const DkimResult& d : dkim) {
    if (d.domain.empty()) continue;
    int result = d.result == "pass"        ? DMARC_POLICY_DKIM_OUTCOME_PASS
                 : d.result == "temperror" ? DMARC_POLICY_DKIM_OUTCOME_TMPFAIL
                                           : DMARC_POLICY_DKIM_OUTCOME_FAIL;
    opendmarc_policy_store_dkim(policy.get(), Bytes(d.domain), Bytes(d.selector), result,
                                Bytes(d.result));
  }
  if (!spf.domain.empty()) {
    int result = spf.result == "pass"        ? DMARC_POLICY_SPF_OUTCOME_PASS
                 : spf.result == "temperror" ? DMARC_POLICY_SPF_OUTCOME_TMPFAIL
                 : spf.result == "none"      ? DMARC_POLICY_SPF_OUTCOME_NONE
                                             : DMARC_POLICY_SPF_OUTCOME_FAIL;
    int origin =
        spf.identity == "helo" ? DMARC_POLICY_SPF_ORIGIN_HELO : DMARC_POLICY_SPF_ORIGIN_MAILFROM;
    opendmarc_policy_store_spf(policy.get(), Bytes(spf.domain), result, origin, Bytes(spf.result));
  }
  switch (opendmarc_get_policy_to_enforce(policy.get())) {
    case DMARC_POLICY_PASS:
      out.result = "pass";
      return out;
    case DMARC_POLICY_REJECT:
      out.result = "fail";
      out.policy = DmarcPolicy::kReject;
      return out;
    case DMARC_POLICY_QUARANTINE:
      out.result = "fail";
      out.policy = DmarcPolicy::kQuarantine;
      return out;
    case DMARC_POLICY_NONE:
      out.result = "fail";
      return out;
    default:  // DMARC_POLICY_ABSENT and errors
      out.result = "none";
      return out;
  }
}

}  // namespace penncloud::mail
