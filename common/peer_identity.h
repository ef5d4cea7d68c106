// Who a PennCloud process is, as its certificate says. Every internal gRPC call is made over
// mutual TLS with a certificate from the cluster CA; the certificate's one URI SAN,
// spiffe://penncloud/<role>/..., names the caller's role, and authorization is decided from
// it alone, never from a field of the request (docs/security.md, "Inside the cluster").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace penncloud::tls {

enum class Role {
  kReplica,      // replica `member` of group `group`: Paxos peer traffic, data RPCs
  kService,      // a frontend, SMTP, POP3 or IMAP server (`kind`): data RPCs only
  kCoordinator,  // the coordinator: registry, admin console, map and membership changes
  kAdmin,        // kvsctl and the operator's tools: everything an operator may do
};

absl::string_view RoleName(Role role);

struct Identity {
  Role role = Role::kService;
  uint64_t group = 0;   // kReplica: the replica group (0 is the config group)
  uint64_t member = 0;  // kReplica: the replica's id in its group (>= 1)
  std::string kind;     // kService: "frontend", "smtp", "pop3" or "imap"
  std::string name;     // kService, kCoordinator, kAdmin: the node name

  static Identity Replica(uint64_t group, uint64_t member);
  static Identity Service(std::string kind, std::string name);
  static Identity Coordinator(std::string name);
  static Identity Admin(std::string name);

  // The part after "spiffe://penncloud/", e.g. "replica/1/2" or "service/smtp/smtp".
  std::string Path() const;
  std::string Uri() const;  // "spiffe://penncloud/" + Path()

  // Parses a URI SAN. Anything else than the forms above (unknown role, missing or extra
  // parts, non-numeric or zero member, a service kind we do not run) is refused.
  static absl::StatusOr<Identity> FromUri(absl::string_view uri);

  friend bool operator==(const Identity&, const Identity&) = default;
};

}  // namespace penncloud::tls
