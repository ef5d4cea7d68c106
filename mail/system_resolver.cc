// The system resolver: libresolv's res_nquery with a per-thread resolver state, and its
// ns_parserr for the answer records.
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <algorithm>
#include <cstring>

#include "mail/dns_resolver.h"

namespace penncloud::mail {
namespace {

int QueryType(DnsType type) {
  switch (type) {
    case DnsType::kTxt:
      return ns_t_txt;
    case DnsType::kA:
      return ns_t_a;
    case DnsType::kAaaa:
      return ns_t_aaaa;
    case DnsType::kMx:
      return ns_t_mx;
  }
  return ns_t_txt;
}

// One answer record's data as DnsAnswer keeps it; false to skip the record.
bool RecordText(const ns_msg& msg, const ns_rr& rr, DnsType type, int* preference,
                std::string* out) {
  const unsigned char* rdata = ns_rr_rdata(rr);
  size_t length = ns_rr_rdlen(rr);
  switch (type) {
    case DnsType::kTxt:
      // One or more <length><bytes> character-strings, joined (RFC 7208 3.3).
      for (size_t pos = 0; pos < length;) {
        size_t n = rdata[pos];
        if (pos + 1 + n > length) return false;
        out->append(reinterpret_cast<const char*>(rdata + pos + 1), n);
        pos += 1 + n;
      }
      return true;
    case DnsType::kA:
    case DnsType::kAaaa: {
      char text[INET6_ADDRSTRLEN];
      int family = type == DnsType::kA ? AF_INET : AF_INET6;
      if (length != (type == DnsType::kA ? 4u : 16u)) return false;
      if (inet_ntop(family, rdata, text, sizeof(text)) == nullptr) return false;
      *out = text;
      return true;
    }
    case DnsType::kMx: {
      if (length < 3) return false;
      *preference = ns_get16(rdata);
      char name[NS_MAXDNAME];
      if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rdata + 2, name, sizeof(name)) <
          0) {
        return false;
      }
      *out = name;
      return true;
    }
  }
  return false;
}

class SystemResolver final : public DnsResolver {
 public:
  explicit SystemResolver(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  DnsAnswer Lookup(std::string_view name, DnsType type) override {
    struct __res_state state;
    std::memset(&state, 0, sizeof(state));
    if (res_ninit(&state) != 0) return {DnsStatus::kTempError, {}};
    state.retrans = std::max<int>(1, static_cast<int>(timeout_.count() / 1000));
    state.retry = 2;
    std::string query(name);
    unsigned char answer[16384];
    int length =
        res_nquery(&state, query.c_str(), ns_c_in, QueryType(type), answer, sizeof(answer));
    int error = state.res_h_errno;
    res_nclose(&state);
    if (length < 0) {
      if (error == HOST_NOT_FOUND) return {DnsStatus::kNxDomain, {}};
      if (error == NO_DATA) return {DnsStatus::kNoData, {}};
      return {DnsStatus::kTempError, {}};
    }
    ns_msg msg;
    if (ns_initparse(answer, length, &msg) < 0) return {DnsStatus::kTempError, {}};
    std::vector<std::pair<int, std::string>> found;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
      ns_rr rr;
      if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != QueryType(type)) continue;
      int preference = 0;
      std::string text;
      if (RecordText(msg, rr, type, &preference, &text)) found.push_back({preference, text});
    }
    if (found.empty()) return {DnsStatus::kNoData, {}};
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    DnsAnswer out{DnsStatus::kOk, {}};
    for (auto& [p, text] : found) out.records.push_back(std::move(text));
    return out;
  }

 private:
  const std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<DnsResolver> NewSystemResolver(std::chrono::milliseconds timeout) {
  return std::make_unique<SystemResolver>(timeout);
}

}  // namespace penncloud::mail
