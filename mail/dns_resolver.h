// DNS as mail authentication needs it (SPF, DKIM keys, DMARC policies): TXT, A, AAAA and MX
// lookups behind one interface, so the checks run the same against the system resolver in
// production and against scripted records in tests (the test machines have no DNS).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::mail {

enum class DnsType { kTxt, kA, kAaaa, kMx };

enum class DnsStatus {
  kOk,         // records found
  kNoData,     // the name exists but has no record of this type
  kNxDomain,   // the name does not exist
  kTempError,  // timeout, SERVFAIL: the answer is unknown for now
};

struct DnsAnswer {
  DnsStatus status = DnsStatus::kNoData;
  // TXT: each record's strings joined; A/AAAA: the address as text; MX: the exchanger
  // names, lowest preference first.
  std::vector<std::string> records;
};

class DnsResolver {
 public:
  virtual ~DnsResolver() = default;
  virtual DnsAnswer Lookup(std::string_view name, DnsType type) = 0;
};

// The host's resolver (libresolv, /etc/resolv.conf), each query bounded by `timeout` per
// try with two tries, so a dead name server costs the SMTP client a few seconds, not minutes.
std::unique_ptr<DnsResolver> NewSystemResolver(std::chrono::milliseconds timeout);

// Records from a text, one per line, `#` starts a comment:
//   example.org TXT "v=spf1 ip4:192.0.2.1 -all"   (quotes optional; "a" "b" joins to ab)
//   example.org A 192.0.2.1
//   example.org AAAA 2001:db8::1
//   example.org MX 10 mx.example.org
//   down.example TEMPFAIL                        (every lookup of the name fails for now)
// Names compare without case and without a trailing dot. A name with some record but none
// of the asked type answers kNoData; an unknown name kNxDomain.
class ScriptedResolver final : public DnsResolver {
 public:
  static absl::StatusOr<std::unique_ptr<ScriptedResolver>> Parse(std::string_view text);
  static absl::StatusOr<std::unique_ptr<ScriptedResolver>> Load(const std::string& path);

  DnsAnswer Lookup(std::string_view name, DnsType type) override;

 private:
  struct Record {
    int preference = 0;  // MX only
    std::string value;
  };
  std::map<std::pair<std::string, DnsType>, std::vector<Record>> records_;
  std::map<std::string, bool> names_;  // name -> fails temporarily
};

// "Example.ORG." -> "example.org".
std::string NormalizeDnsName(std::string_view name);

}  // namespace penncloud::mail
