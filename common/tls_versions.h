// Which TLS versions this process speaks. Internal gRPC is TLS 1.3 only; the public edges
// (HTTPS, SMTP, POP3, IMAP, and SMTP to other mail servers) also accept TLS 1.2.
//
// gRPC 1.51's credentials have no setting for the lowest TLS version, and gRPC itself asks
// OpenSSL for "1.2 or later" on every context it makes. What it does not undo is OpenSSL's
// per-process configuration: the "system_default" section, applied to every SSL_CTX when it
// is created, can switch TLS 1.2 (and older) off as an option, and gRPC's own minimum then
// leaves only TLS 1.3.
#pragma once

#include <openssl/ssl.h>

#include "absl/status/status.h"

namespace penncloud::tls {

// Makes every SSL_CTX created from now on in this process TLS 1.3 only. Idempotent;
// tls::Init* calls it before it builds the gRPC credentials.
absl::Status RequireTls13ForNewContexts();

// For an edge context (made by us with boost::asio::ssl or SSL_CTX_new): TLS 1.2 and 1.3,
// whatever RequireTls13ForNewContexts switched off.
void AllowTls12(SSL_CTX* context);

}  // namespace penncloud::tls
