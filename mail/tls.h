// TLS for STARTTLS (SMTP) and STLS (POP3): a server context from a certificate and key in
// PEM files. If neither file exists yet, a self-signed certificate is generated and written
// there first, so a fresh state folder needs no manual setup.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace penncloud::mail {

absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> ServerTlsContext(
    const std::string& cert_path, const std::string& key_path, const std::string& hostname);

// A client context that accepts any certificate: relaying opportunistically encrypts, but
// (like most MTAs without DANE) does not authenticate the receiving server.
std::unique_ptr<boost::asio::ssl::context> OpportunisticClientTlsContext();

}  // namespace penncloud::mail
