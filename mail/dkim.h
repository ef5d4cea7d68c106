// DKIM (RFC 6376) with libopendkim: signing outbound mail with the domain's Ed25519
// (RFC 8463) and RSA-2048 keys, and verifying inbound signatures with the public keys
// looked up through a DnsResolver (libopendkim's key-lookup hook, so it never queries DNS
// itself). The private keys are PEM files `<dir>/<domain>.<selector>.key` made by
// scripts/lib/dkim.sh; the algorithm follows from the key.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/dns_resolver.h"

namespace penncloud::mail {

struct DkimKey {
  std::string domain;
  std::string selector;
  std::string pem;  // the private key
  bool ed25519 = false;
};

// Every `<dir>/<domain>.*.key`, sorted by selector. None is not an error (signing is off).
absl::StatusOr<std::vector<DkimKey>> LoadDkimKeys(const std::string& dir, std::string_view domain);
// A key from PEM text; the type (Ed25519 or RSA of at least 1024 bits) is checked here.
absl::StatusOr<DkimKey> MakeDkimKey(std::string domain, std::string selector, std::string pem);

// The DNS TXT record that publishes `key` at `<selector>._domainkey.<domain>`: the raw
// public key for Ed25519 (RFC 8463 4.2), SubjectPublicKeyInfo for RSA (RFC 6376 3.6.1).
std::string DkimPublicRecord(const DkimKey& key);

class DkimSigner {
 public:
  explicit DkimSigner(std::vector<DkimKey> keys) : keys_(std::move(keys)) {}
  // `message` with one DKIM-Signature field per key on top (relaxed/relaxed canonicalization,
  // libopendkim's default header list, the whole body). With no keys, the message as it is.
  absl::StatusOr<std::string> Sign(std::string_view message) const;
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<DkimKey> keys_;
};

struct DkimResult {
  std::string result;     // pass, fail, neutral, temperror, permerror (RFC 8601 2.7.1)
  std::string domain;     // d=
  std::string selector;   // s=
  std::string algorithm;  // a=, e.g. "ed25519-sha256"
  std::string signature;  // the first characters of b=, to tell signatures apart
  std::string reason;     // libopendkim's word for a failure
};

// One result per DKIM-Signature field (none if the message has none).
std::vector<DkimResult> VerifyDkim(std::string_view message, DnsResolver& resolver);

}  // namespace penncloud::mail
