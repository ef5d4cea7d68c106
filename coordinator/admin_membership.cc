#include "coordinator/admin_membership.h"

namespace penncloud::coordinator {
namespace {

absl::Status NotYet(const char* what) {
  return absl::UnimplementedError(
      std::string(what) + " is not available yet (the KVS node membership calls are not built)");
}

}  // namespace

absl::StatusOr<std::string> Membership::AddReplica(const std::string&) {
  return NotYet("adding a replica");
}
absl::Status Membership::RemoveReplica(const std::string&, const std::string&) {
  return NotYet("removing a replica");
}
absl::StatusOr<std::string> Membership::AddGroup() { return NotYet("adding a group"); }
absl::Status Membership::RemoveGroup(const std::string&) { return NotYet("removing a group"); }

}  // namespace penncloud::coordinator
