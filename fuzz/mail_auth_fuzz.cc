// Mail authentication on arbitrary inbound messages (mail/inbound_auth.h): our header
// splitting and Authentication-Results removal, and libopendkim parsing DKIM-Signature tag
// lists and key records, all fed from outside bytes. DNS is scripted: one Ed25519 key and
// SPF/DMARC records for the domain the seeds use, so signatures get as far as a key.
//
// Invariants: the header fields are in-order pieces of the message; the result carries
// exactly one Authentication-Results with our authserv-id, first; and after removal no
// field with our authserv-id is left (a forged "pass" never survives).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "mail/header_fields.h"
#include "mail/inbound_auth.h"

namespace {

using namespace penncloud::mail;

constexpr std::string_view kId = "penncloud.local";

ScriptedResolver& Dns() {
  static auto dns = *ScriptedResolver::Parse(
      "ed._domainkey.example.org TXT \"v=DKIM1; k=ed25519; "
      "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
      "rsa._domainkey.example.org TXT \"v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAK\"\n"
      "example.org TXT \"v=spf1 ip4:192.0.2.0/24 include:down.example -all\"\n"
      "_dmarc.example.org TXT \"v=DMARC1; p=reject; adkim=s\"\n"
      "down.example TEMPFAIL\n");
  return *dns;
}

int CountOurs(std::string_view message) {
  int n = 0;
  for (std::string_view field : SplitHeader(message).fields) {
    if (FieldName(field) == "Authentication-Results" && AuthservIdOf(FieldValue(field)) == kId) ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view message(reinterpret_cast<const char*>(data), size);

  HeaderSection header = SplitHeader(message);
  const char* last = message.data();
  for (std::string_view field : header.fields) {
    FUZZ_CHECK(field.data() >= last && field.data() + field.size() <= message.data() + size);
    last = field.data() + field.size();
  }
  FUZZ_CHECK(header.body_offset <= size);

  std::string stripped = StripAuthenticationResults(message, kId);
  FUZZ_CHECK(stripped.size() <= size);
  FUZZ_CHECK(CountOurs(stripped) == 0);

  static InboundAuth auth(Dns(), std::string(kId));
  InboundDecision decision = auth.Check("192.0.2.7", "mx.example.org", "a@example.org", message);
  FUZZ_CHECK(decision.message.starts_with("Authentication-Results: penncloud.local;"));
  FUZZ_CHECK(decision.message.ends_with(stripped));
  FUZZ_CHECK(CountOurs(decision.message) == 1);
  return 0;
}
