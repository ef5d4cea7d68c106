// The mutual-TLS credentials of this process's gRPC channels and servers. Every PennCloud
// binary calls InitFromFlags once in main, before it opens a channel or a server; the rest
// of the code asks ChannelCredentials() / ServerCredentials() and never builds its own.
//
// Flags (any binary, or its table in config/penncloud.conf):
//   --tls_dir=DIR        DIR/ca.crt and DIR/<node name>.{crt,key} (what scripts/start.sh makes)
//   --tls_ca_file, --tls_cert_file, --tls_key_file   name the files one by one instead
//   --tls_reload_s=N     re-read the files every N seconds: a replaced certificate or CA
//                        bundle is used for new connections without a restart
//   --insecure_plaintext FOR BENCHMARKS ONLY: no TLS and no authorization at all
//
// Servers require a client certificate that chains to the CA bundle; clients check the
// server's chain and that its SAN names the address dialled. Who may call what is decided
// from the verified certificate by common/grpc_authz.h.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/certificate.h"

namespace grpc {
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace penncloud::tls {

struct Files {
  std::string ca;
  std::string cert;
  std::string key;
};

// Reads the flags, checks the files (key matches, chains to the CA, valid now) and makes
// them this process's credentials. Returns what its certificate says, or nullopt under
// --insecure_plaintext. `node_name` picks the files inside --tls_dir.
absl::StatusOr<std::optional<CertificateInfo>> InitFromFlags(absl::string_view node_name);

// InitFromFlags for a main: also checks that the certificate is the one this process must
// present, `expected` (a replica its group and id, a service its kind and node name, the
// coordinator and admin tools their role), so a wrong file fails at start, not at the
// first refused call. Plaintext passes.
absl::Status InitProcess(absl::string_view node_name, const Identity& expected);

// What this process's certificate said when it was loaded (nullopt before Init* and under
// --insecure_plaintext): the console shows it beside the node.
std::optional<CertificateInfo> ProcessCertificate();

// The same for explicit files (tests and tools); `reload_s` as --tls_reload_s.
absl::StatusOr<CertificateInfo> Init(const Files& files, unsigned reload_s = 60);

// True under --insecure_plaintext: callers are not authenticated, every RPC is allowed.
bool Plaintext();

// The process's credentials; abort if Init* has not run (a missing call is a bug that
// must not quietly fall back to plaintext).
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials();
std::shared_ptr<grpc::ServerCredentials> ServerCredentials();

// Credentials for other files than the process's own: what a test uses to act as another
// node, or as a stranger holding a certificate of some other CA.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const Files& files,
                                                                 unsigned reload_s = 60);

}  // namespace penncloud::tls
