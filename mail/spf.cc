#include "mail/spf.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

extern "C" {
#include <spf2/spf.h>
}

#include "mail/text.h"

namespace penncloud::mail {
namespace {

int HostError(DnsStatus status) {
  switch (status) {
    case DnsStatus::kOk:
      return NETDB_SUCCESS;
    case DnsStatus::kNoData:
      return NO_DATA;
    case DnsStatus::kNxDomain:
      return HOST_NOT_FOUND;
    case DnsStatus::kTempError:
      return TRY_AGAIN;
  }
  return TRY_AGAIN;
}

// The lookup of our DNS layer: the resolver's answer in libspf2's record form (as its own
// resolv layer builds it: one buffer per record, sized with SPF_dns_rr_buf_realloc).
struct LayerState {
  DnsResolver* resolver;
  bool temp_error = false;  // some lookup failed for now
};

SPF_dns_rr_t* Lookup(SPF_dns_server_t* server, const char* domain, ns_type type, int) {
  auto* state = static_cast<LayerState*>(server->hook);
  DnsType kind;
  switch (type) {
    case ns_t_txt:
      kind = DnsType::kTxt;
      break;
    case ns_t_a:
      kind = DnsType::kA;
      break;
    case ns_t_aaaa:
      kind = DnsType::kAaaa;
      break;
    case ns_t_mx:
      kind = DnsType::kMx;
      break;
    default:  // type SPF (99) is obsolete (RFC 7208 3.1); PTR we do not look up
      return SPF_dns_rr_new_init(server, domain, type, 0, NO_DATA);
  }
  DnsAnswer answer = state->resolver->Lookup(domain, kind);
  if (answer.status == DnsStatus::kTempError) state->temp_error = true;
  SPF_dns_rr_t* rr = SPF_dns_rr_new_init(server, domain, type, 0, HostError(answer.status));
  if (rr == nullptr || answer.status != DnsStatus::kOk) return rr;
  int n = 0;
  for (const std::string& record : answer.records) {
    if (kind == DnsType::kA || kind == DnsType::kAaaa) {
      size_t size = kind == DnsType::kA ? sizeof(in_addr) : sizeof(in6_addr);
      if (SPF_dns_rr_buf_realloc(rr, n, size) != SPF_E_SUCCESS) break;
      int family = kind == DnsType::kA ? AF_INET : AF_INET6;
      if (inet_pton(family, record.c_str(), &rr->rr[n]->a) != 1) continue;
    } else {
      if (SPF_dns_rr_buf_realloc(rr, n, record.size() + 1) != SPF_E_SUCCESS) break;
      std::memcpy(rr->rr[n]->txt, record.c_str(), record.size() + 1);
    }
    ++n;
  }
  rr->num_rr = n;
  if (n == 0) rr->herrno = NO_DATA;
  return rr;
}

std::string ResultName(SPF_result_t result) {
  switch (result) {
    case SPF_RESULT_PASS:
      return "pass";
    case SPF_RESULT_FAIL:
      return "fail";
    case SPF_RESULT_SOFTFAIL:
      return "softfail";
    case SPF_RESULT_NEUTRAL:
      return "neutral";
    case SPF_RESULT_NONE:
      return "none";
    case SPF_RESULT_TEMPERROR:
      return "temperror";
    default:
      return "permerror";
  }
}

}  // namespace

SpfResult CheckSpf(DnsResolver& resolver, std::string_view client_ip, std::string_view helo,
                   std::string_view mail_from) {
  SpfResult out;
  std::string helo_name(helo);
  std::string sender(mail_from);
  size_t at = sender.rfind('@');
  out.identity = sender.empty() ? "helo" : "mailfrom";
  out.domain = sender.empty() ? ToLower(helo_name) : ToLower(sender.substr(at + 1));
  // Our layer lives on the stack: with destroy unset, libspf2 leaves it to us.
  SPF_dns_server_t layer{};
  layer.lookup = Lookup;
  layer.name = "penncloud";
  LayerState state{&resolver};
  layer.hook = &state;
  SPF_server_t* server = SPF_server_new_dns(&layer, 0);
  if (server == nullptr) return {"temperror", out.identity, out.domain, "no SPF server"};
  SPF_request_t* request = SPF_request_new(server);
  std::string ip(client_ip);
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; their SPF is ip4's.
  if (ip.starts_with("::ffff:") && ip.find('.') != std::string::npos) ip = ip.substr(7);
  bool v6 = ip.find(':') != std::string::npos;
  SPF_errcode_t err = v6 ? SPF_request_set_ipv6_str(request, ip.c_str())
                         : SPF_request_set_ipv4_str(request, ip.c_str());
  if (err == SPF_E_SUCCESS && !helo_name.empty()) {
    err = SPF_request_set_helo_dom(request, helo_name.c_str());
  }
  if (err == SPF_E_SUCCESS && !sender.empty()) {
    err =
        SPF_request_set_env_from(request, sender.c_str()) == 0 ? SPF_E_SUCCESS : SPF_E_INVALID_CHAR;
  }
  SPF_response_t* response = nullptr;
  if (err == SPF_E_SUCCESS) SPF_request_query_mailfrom(request, &response);
  if (response != nullptr) {
    out.result = ResultName(SPF_response_result(response));
    // libspf2 reports a DNS failure as permerror; RFC 7208 2.6.6 calls it temperror, and the
    // sender's next try may pass.
    if (out.result == "permerror" && state.temp_error) out.result = "temperror";
    const char* comment = SPF_response_get_header_comment(response);
    if (comment != nullptr) out.comment = comment;
    SPF_response_free(response);
  } else {
    out.result = "permerror";
    out.comment = Cat("bad SPF request: ", SPF_strerror(err));
  }
  SPF_request_free(request);
  SPF_server_free(server);
  return out;
}

}  // namespace penncloud::mail
