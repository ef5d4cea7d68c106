#include "common/grpc_tls.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <cstdlib>
#include <iostream>
#include <mutex>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/tls_versions.h"

ABSL_FLAG(std::string, tls_dir, "",
          "folder with the cluster CA (ca.crt) and this node's <node_name>.crt and .key");
ABSL_FLAG(std::string, tls_ca_file, "", "CA bundle (PEM) peers' certificates must chain to");
ABSL_FLAG(std::string, tls_cert_file, "", "this node's certificate (PEM)");
ABSL_FLAG(std::string, tls_key_file, "", "this node's private key (PEM)");
ABSL_FLAG(uint32_t, tls_reload_s, 60,
          "re-read the certificate, key and CA bundle this often (rotation without restart)");
ABSL_FLAG(bool, insecure_plaintext, false,
          "BENCHMARKS ONLY: internal gRPC without TLS and without authorization. Never set by "
          "scripts/start.sh or the container files.");

namespace penncloud::tls {
namespace {

namespace gx = grpc::experimental;

struct ProcessCredentials {
  std::mutex mu;
  bool plaintext = false;
  std::optional<CertificateInfo> certificate;         // GUARDED_BY(mu)
  std::shared_ptr<grpc::ChannelCredentials> channel;  // GUARDED_BY(mu)
  std::shared_ptr<grpc::ServerCredentials> server;    // GUARDED_BY(mu)
};

ProcessCredentials& Process() {
  static ProcessCredentials* credentials = new ProcessCredentials;
  return *credentials;
}

std::shared_ptr<gx::CertificateProviderInterface> Provider(const Files& files, unsigned reload_s) {
  return std::make_shared<gx::FileWatcherCertificateProvider>(files.key, files.cert, files.ca,
                                                              std::max(1u, reload_s));
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const Files& files,
                                                               unsigned reload_s) {
  gx::TlsServerCredentialsOptions options(Provider(files, reload_s));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return gx::TlsServerCredentials(options);
}

// gRPC reads this once, at its first use in the process, so it is set before any
// credentials exist (an operator's own setting wins). A client channel's sockets make
// progress only while some thread polls them: a thread waiting on a call does, but between
// the attempts of a retry loop nobody does but gRPC's backup poller, every 5 s by default.
// A channel that had to reconnect (a replica not listening yet, a restarted peer) then took
// one step of its TCP and TLS handshakes per 5 s, and its 5 s connect timeout ran out before
// the handshake was done, again and again: `kvsctl cluster init` against a group just
// started failed in about one try of three, and the multi-host test's start with it.
void SetGrpcProcessDefaults() {
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", /*overwrite=*/0);
}

[[noreturn]] void Uninitialized() {
  std::cerr << "internal error: gRPC credentials used before tls::InitFromFlags\n";
  std::abort();
}

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const Files& files,
                                                                 unsigned reload_s) {
  gx::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(Provider(files, reload_s));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(std::make_shared<gx::HostNameCertificateVerifier>());
  return gx::TlsCredentials(options);
}

absl::StatusOr<CertificateInfo> Init(const Files& files, unsigned reload_s) {
  SetGrpcProcessDefaults();
  absl::StatusOr<CertificateInfo> info = CheckKeyPair(files.ca, files.cert, files.key);
  if (!info.ok()) return info.status();
  if (absl::Status tls13 = RequireTls13ForNewContexts(); !tls13.ok()) return tls13;
  ProcessCredentials& process = Process();
  std::lock_guard lock(process.mu);
  process.plaintext = false;
  process.certificate = *info;
  process.channel = MakeChannelCredentials(files, reload_s);
  process.server = MakeServerCredentials(files, reload_s);
  return info;
}

absl::StatusOr<std::optional<CertificateInfo>> InitFromFlags(absl::string_view node_name) {
  SetGrpcProcessDefaults();
  if (absl::GetFlag(FLAGS_insecure_plaintext)) {
    PC_LOG(kWarn, "tls.plaintext")("why", "--insecure_plaintext: benchmarks only");
    ProcessCredentials& process = Process();
    std::lock_guard lock(process.mu);
    process.plaintext = true;
    process.channel = grpc::InsecureChannelCredentials();
    process.server = grpc::InsecureServerCredentials();
    return std::nullopt;
  }
  const std::string dir = absl::GetFlag(FLAGS_tls_dir);
  auto pick = [&](const absl::Flag<std::string>& flag, absl::string_view in_dir) {
    std::string file = absl::GetFlag(flag);
    if (file.empty() && !dir.empty()) file = absl::StrCat(dir, "/", in_dir);
    return file;
  };
  Files files{.ca = pick(FLAGS_tls_ca_file, "ca.crt"),
              .cert = pick(FLAGS_tls_cert_file, absl::StrCat(node_name, ".crt")),
              .key = pick(FLAGS_tls_key_file, absl::StrCat(node_name, ".key"))};
  if (files.ca.empty() || files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError(
        "internal gRPC needs mutual TLS: give --tls_dir, or --tls_ca_file, --tls_cert_file "
        "and --tls_key_file (scripts/start.sh makes them under state/tls/)");
  }
  absl::StatusOr<CertificateInfo> info = Init(files, absl::GetFlag(FLAGS_tls_reload_s));
  if (!info.ok()) return info.status();
  PC_LOG(kDebug, "tls.identity")
  ("identity", info->identity.Path())("expires_unix", info->not_after_unix);
  return std::optional<CertificateInfo>(*std::move(info));
}

absl::Status InitProcess(absl::string_view node_name, const Identity& expected) {
  absl::StatusOr<std::optional<CertificateInfo>> info = InitFromFlags(node_name);
  if (!info.ok()) return info.status();
  if (!info->has_value()) return absl::OkStatus();
  const Identity& have = (*info)->identity;
  const bool fits =
      have.role == expected.role &&
      (expected.role == Role::kCoordinator || expected.role == Role::kAdmin || have == expected);
  if (!fits) {
    return absl::InvalidArgumentError(absl::StrCat("the certificate names ", have.Path(),
                                                   " but this process is ", expected.Path()));
  }
  return absl::OkStatus();
}

std::optional<CertificateInfo> ProcessCertificate() {
  ProcessCredentials& process = Process();
  std::lock_guard lock(process.mu);
  return process.certificate;
}

bool Plaintext() {
  ProcessCredentials& process = Process();
  std::lock_guard lock(process.mu);
  return process.plaintext;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() {
  ProcessCredentials& process = Process();
  std::lock_guard lock(process.mu);
  if (!process.channel) Uninitialized();
  return process.channel;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials() {
  ProcessCredentials& process = Process();
  std::lock_guard lock(process.mu);
  if (!process.server) Uninitialized();
  return process.server;
}

}  // namespace penncloud::tls
