#include "mail/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/log.h"
#include "common/tls_versions.h"

namespace penncloud::mail {
namespace {

absl::Status WriteSelfSigned(const std::string& cert_path, const std::string& key_path,
                             const std::string& hostname) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) return absl::InternalError("RSA key generation failed");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("PennCloud"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  absl::Status status = absl::OkStatus();
  if (X509_sign(cert, key, EVP_sha256()) == 0) status = absl::InternalError("signing failed");
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cert_path).parent_path(), ec);
  std::filesystem::create_directories(std::filesystem::path(key_path).parent_path(), ec);
  if (status.ok()) {
    FILE* f = std::fopen(key_path.c_str(), "wx");
    if (f == nullptr || PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      status = absl::InternalError("cannot write " + key_path);
    }
    if (f != nullptr) std::fclose(f);
    std::filesystem::permissions(
        key_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  }
  if (status.ok()) {
    FILE* f = std::fopen(cert_path.c_str(), "wx");
    if (f == nullptr || PEM_write_X509(f, cert) != 1) {
      status = absl::InternalError("cannot write " + cert_path);
    }
    if (f != nullptr) std::fclose(f);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> ServerTlsContext(
    const std::string& cert_path, const std::string& key_path, const std::string& hostname) {
  bool have_cert = std::filesystem::exists(cert_path);
  bool have_key = std::filesystem::exists(key_path);
  if (!have_cert && !have_key) {
    // Two servers may start at once on a fresh state folder: "wx" lets one win; the other
    // waits briefly for the winner's files below.
    absl::Status s = WriteSelfSigned(cert_path, key_path, hostname);
    if (s.ok()) {
      PC_LOG(kInfo, "tls.generated")("cert", cert_path);
    }
  }
  for (int i = 0;
       i < 50 && !(std::filesystem::exists(cert_path) && std::filesystem::exists(key_path)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto ctx = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  ctx->set_options(boost::asio::ssl::context::default_workarounds |
                   boost::asio::ssl::context::no_sslv2 | boost::asio::ssl::context::no_sslv3 |
                   boost::asio::ssl::context::no_tlsv1 | boost::asio::ssl::context::no_tlsv1_1);
  tls::AllowTls12(ctx->native_handle());
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_path, ec);
  if (ec)
    return absl::FailedPreconditionError("TLS certificate " + cert_path + ": " + ec.message());
  ctx->use_private_key_file(key_path, boost::asio::ssl::context::pem, ec);
  if (ec) return absl::FailedPreconditionError("TLS key " + key_path + ": " + ec.message());
  return ctx;
}

std::unique_ptr<boost::asio::ssl::context> OpportunisticClientTlsContext() {
  auto ctx = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  tls::AllowTls12(ctx->native_handle());
  ctx->set_verify_mode(boost::asio::ssl::verify_none);
  return ctx;
}

}  // namespace penncloud::mail
