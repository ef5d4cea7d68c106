// The TLS settings of the coordinator's HTTPS listener (:8443): TLS 1.2 and 1.3 only, and
// for 1.2 only forward-secret AEAD suites (Mozilla's "intermediate" profile), with the
// certificate chain and private key read from PEM files the operator names (by default
// scripts/start.sh issues them from the cluster CA in state/tls/).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace penncloud::coordinator {

// Fails with a message naming the file if the certificate or key cannot be loaded or do
// not belong together.
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> HttpsContext(
    const std::string& cert_chain_file, const std::string& key_file);

}  // namespace penncloud::coordinator
