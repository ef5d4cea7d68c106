// Reading X.509 certificates with OpenSSL: the PennCloud identity a certificate carries, when
// it expires, and whether a certificate, its key and the CA bundle belong together. Used
// when a process loads its own credentials (to refuse a wrong file at start, not at the
// first handshake) and by the console to show what each node presents.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/peer_identity.h"

namespace penncloud::tls {

struct CertificateInfo {
  Identity identity;
  int64_t not_after_unix = 0;  // end of validity, seconds since the epoch
};

// The first certificate of a PEM text. Fails unless it has exactly one
// spiffe://penncloud/... URI SAN that Identity::FromUri accepts.
absl::StatusOr<CertificateInfo> ReadCertificate(absl::string_view pem);

// Reads three PEM files and checks that the key is the certificate's, that the certificate
// chains to a CA in the bundle, and that it is valid now. Returns what the certificate says.
absl::StatusOr<CertificateInfo> CheckKeyPair(const std::string& ca_file,
                                             const std::string& cert_file,
                                             const std::string& key_file);

// Issues `dir`/`name`.crt and .key for `identity`, signed by the cluster CA in `dir`
// (ca.crt, ca.key), as scripts/lib/tls.sh does: EC P-256, 397 days, the identity's URI SAN,
// DNS localhost and `ips`. For a process the console starts (a replica added to a group);
// a certificate already there is kept. NotFound if `dir` holds no CA key: an operator whose
// CA stays elsewhere provides the files.
absl::Status IssueCertificate(const std::string& dir, const std::string& name,
                              const Identity& identity, const std::vector<std::string>& ips);

}  // namespace penncloud::tls
