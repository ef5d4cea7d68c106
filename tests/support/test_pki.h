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

  // The files of a certificate for `identity`, signed by this CA (issued once, then reused).
  absl::StatusOr<tls::Files> Issue(const tls::Identity& identity, const std::string& ip = "127.0.0.1");
  // A certificate for `identity` that no CA signed.
  absl::StatusOr<tls::Files> SelfSigned(const tls::Identity& identity);
  // The --tls_*_file flags of a process presenting `identity`.
  absl::StatusOr<std::vector<std::string>> Flags(const tls::Identity& identity);

 private:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// `args` plus the --tls_*_file flags a PennCloud binary started with them needs: the
// identity follows from the binary and its flags (kvs_server --group/--id, frontend
// --port or --node_name, ...). Unchanged if `args` already name TLS files, or for other
// binaries.
std::vector<std::string> WithTestTls(const std::string& binary, std::vector<std::string> args);

}  // namespace penncloud::testing
