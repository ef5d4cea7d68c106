// Authorization of internal RPCs from the caller's verified certificate (common/grpc_tls.h).
// A handler's first line names the roles its RPC admits:
//
//   if (grpc::Status s = tls::Authorize(*context, "InstallMap", {Role::kAdmin,
//       Role::kCoordinator}); !s.ok()) return s;
//
// and finer rules (a peer message's sender must be a current member of this group, a
// heartbeat's address must be the caller's own) use the identity Authorize hands back and
// refuse through Deny. Every refusal is counted in /metrics
// (penncloud_grpc_refused_total{rpc,code}) and logged at most once a minute per caller.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/certificate.h"
#include "common/peer_identity.h"

namespace grpc {
class AuthContext;
class ServerContextBase;
class Status;
}  // namespace grpc

namespace penncloud::tls {

// OK if the caller's certificate names one of `roles`: then `*caller` (if given) is its
// identity, or nullopt under --insecure_plaintext, where every RPC is allowed. Otherwise
// UNAUTHENTICATED (no PennCloud identity) or PERMISSION_DENIED (another role).
grpc::Status Authorize(const grpc::ServerContextBase& context, absl::string_view rpc,
                       std::initializer_list<Role> roles,
                       std::optional<Identity>* caller = nullptr);

// PERMISSION_DENIED for a finer rule the handler checked itself, counted and logged as
// Authorize's refusals are.
grpc::Status Deny(const grpc::ServerContextBase& context, absl::string_view rpc,
                  absl::string_view why);

// What the other end's verified certificate says (its identity and expiry), from either
// side of a call: a server's context, or a client's once the call has completed.
std::optional<CertificateInfo> PeerCertificate(const grpc::AuthContext* auth);

// The IP addresses the caller's verified certificate names: where it may say it serves.
std::vector<std::string> CallerAddresses(const grpc::ServerContextBase& context);

}  // namespace penncloud::tls
