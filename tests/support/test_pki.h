// Mutual TLS for whole-system tests, as in production: a cluster CA per test process, and
// a certificate per process identity, issued on demand by scripts/lib/tls.sh (the script
// scripts/start.sh uses). Every PennCloud binary a test starts through Process::Start gets
// the certificate its flags call for (WithTestTls); the test process itself holds an
// operator's (admin) certificate for its own calls into the cluster.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/grpc_tls.h"
#include "common/peer_identity.h"

namespace penncloud::testing {

class TestPki {
 public:
  // The test process's CA (made on first use) and its own admin credentials installed as
  // the process's gRPC credentials.
  static TestPki& Shared();

  // A CA of its own, in `dir` (a stranger's, for refusal tests).
  static absl::StatusOr<TestPki> Create(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/ca.crt"; }

  // The files of a certificate for `identity`, signed by this CA (issued once, then reused),
  // named `name`.crt/.key (default: the identity's path with '-' for '/').
  absl::StatusOr<tls::Files> Issue(const tls::Identity& identity, const std::string& name = "");
  // Where the certificate named `name` lives (issued or not).
  tls::Files FilesOf(const std::string& name) const;
  // A certificate for `identity` that no CA signed.
  absl::StatusOr<tls::Files> SelfSigned(const tls::Identity& identity);
  // The --tls_dir flag of a process named `node_name` presenting `identity`, as start.sh
  // gives it: this CA's folder, where the certificate is issued under the node name (and
  // where the console issues one for a replica it adds).
  absl::StatusOr<std::vector<std::string>> Flags(const tls::Identity& identity,
                                                 const std::string& node_name);

 private:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// `args` plus the --tls_dir flag a PennCloud binary started with them needs, with its
// certificate issued: the identity and node name follow from the binary and its flags
// (kvs_server --group/--id, frontend --port, --node_name, ...) as the binary derives them.
// Unchanged if `args` already name TLS files, or for other binaries.
std::vector<std::string> WithTestTls(const std::string& binary, std::vector<std::string> args);

}  // namespace penncloud::testing
