#include "coordinator/https_context.h"

#include <openssl/ssl.h>

#include "absl/strings/str_cat.h"
#include "common/tls_versions.h"

namespace penncloud::coordinator {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305.
// TLS 1.3 keeps OpenSSL's default suites, which are all of that kind already.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

absl::StatusOr<std::unique_ptr<ssl::context>> HttpsContext(const std::string& cert_chain_file,
                                                           const std::string& key_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  tls::AllowTls12(native);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return absl::InternalError("OpenSSL refused the TLS settings");
  }
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_chain_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load the HTTPS certificate ", cert_chain_file, ": ", ec.message()));
  }
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load the HTTPS key ", key_file, ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the HTTPS key ", key_file, " does not match ", cert_chain_file));
  }
  return ctx;
}

}  // namespace penncloud::coordinator
