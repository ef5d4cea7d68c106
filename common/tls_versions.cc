#include "common/tls_versions.h"

#include <openssl/conf.h>
#include <openssl/err.h>

#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"

namespace penncloud::tls {
namespace {

// Replaces the process's "system_default" SSL section (Debian's only raises the security
// level, which is kept). "Protocol" sets OpenSSL's SSL_OP_NO_* options rather than a
// minimum version, which is what makes it survive gRPC's own SSL_CTX_set_min_proto_version.
constexpr char kConfig[] =
    "penncloud_tls_init = modules\n"
    "[modules]\n"
    "ssl_conf = ssl_sections\n"
    "[ssl_sections]\n"
    "system_default = tls13_only\n"
    "[tls13_only]\n"
    "CipherString = DEFAULT:@SECLEVEL=2\n"
    "Protocol = -ALL, TLSv1.3\n";

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

absl::Status Apply() {
  // Loads the distribution's configuration first (if nothing has yet), so that its later
  // automatic load cannot replace ours.
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) {
    return absl::InternalError(absl::StrCat("OpenSSL init: ", OpenSslError()));
  }
  BIO* bio = BIO_new_mem_buf(kConfig, -1);
  CONF* conf = NCONF_new(nullptr);
  long error_line = 0;
  absl::Status status;
  if (bio == nullptr || conf == nullptr || NCONF_load_bio(conf, bio, &error_line) != 1) {
    status = absl::InternalError(
        absl::StrCat("TLS version settings, line ", error_line, ": ", OpenSslError()));
  } else if (CONF_modules_load(conf, "penncloud_tls_init", 0) != 1) {
    status = absl::InternalError(absl::StrCat("TLS version settings: ", OpenSslError()));
  }
  NCONF_free(conf);
  BIO_free(bio);
  return status;
}

}  // namespace

absl::Status RequireTls13ForNewContexts() {
  static std::once_flag once;
  static absl::Status* status = nullptr;
  std::call_once(once, [] { status = new absl::Status(Apply()); });
  return *status;
}

void AllowTls12(SSL_CTX* context) {
  SSL_CTX_clear_options(context, SSL_OP_NO_TLSv1_2);
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}

}  // namespace penncloud::tls
