#include "common/peer_identity.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace penncloud::tls {
namespace {

constexpr absl::string_view kPrefix = "spiffe://penncloud/";

bool IsServiceKind(absl::string_view kind) {
  return kind == "frontend" || kind == "smtp" || kind == "pop3" || kind == "imap";
}

// Node names appear in logs and the console; keep them to what start.sh and operators use.
bool IsNodeName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

absl::Status Bad(absl::string_view uri, absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("certificate identity '", uri, "': ", why));
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReplica:
      return "replica";
    case Role::kService:
      return "service";
    case Role::kCoordinator:
      return "coordinator";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

Identity Identity::Replica(uint64_t group, uint64_t member) {
  Identity identity;
  identity.role = Role::kReplica;
  identity.group = group;
  identity.member = member;
  return identity;
}
Identity Identity::Service(std::string kind, std::string name) {
  Identity identity;
  identity.role = Role::kService;
  identity.kind = std::move(kind);
  identity.name = std::move(name);
  return identity;
}
Identity Identity::Coordinator(std::string name) {
  Identity identity;
  identity.role = Role::kCoordinator;
  identity.name = std::move(name);
  return identity;
}
Identity Identity::Admin(std::string name) {
  Identity identity;
  identity.role = Role::kAdmin;
  identity.name = std::move(name);
  return identity;
}

std::string Identity::Path() const {
  switch (role) {
    case Role::kReplica:
      return absl::StrCat("replica/", group, "/", member);
    case Role::kService:
      return absl::StrCat("service/", kind, "/", name);
    case Role::kCoordinator:
    case Role::kAdmin:
      return absl::StrCat(RoleName(role), "/", name);
  }
  return "";
}

std::string Identity::Uri() const { return absl::StrCat(kPrefix, Path()); }

absl::StatusOr<Identity> Identity::FromUri(absl::string_view uri) {
  absl::string_view path = uri;
  if (!absl::ConsumePrefix(&path, kPrefix)) return Bad(uri, "not a spiffe://penncloud/ URI");
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  const absl::string_view role = parts[0];
  if (role == "replica") {
    uint64_t group = 0, member = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &group) ||
        !absl::SimpleAtoi(parts[2], &member) || member == 0) {
      return Bad(uri, "want replica/<group>/<member>, member >= 1");
    }
    return Replica(group, member);
  }
  if (role == "service") {
    if (parts.size() != 3 || !IsServiceKind(parts[1]) || !IsNodeName(parts[2])) {
      return Bad(uri, "want service/<frontend|smtp|pop3|imap>/<name>");
    }
    return Service(std::string(parts[1]), std::string(parts[2]));
  }
  if (role == "coordinator" || role == "admin") {
    if (parts.size() != 2 || !IsNodeName(parts[1])) return Bad(uri, "want <role>/<name>");
    return role == "admin" ? Admin(std::string(parts[1])) : Coordinator(std::string(parts[1]));
  }
  return Bad(uri, "unknown role");
}

}  // namespace penncloud::tls
