// Membership changes requested from the admin console: a replica added to or removed from
// a group, a group added or removed. Each answers at once (202) and the work goes on in the
// background; the console follows it in the overview (nodes, groups, rebalance progress).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace penncloud::coordinator {

class Membership {
 public:
  // The new replica's node id.
  absl::StatusOr<std::string> AddReplica(const std::string& group);
  absl::Status RemoveReplica(const std::string& group, const std::string& node_id);
  // The new group's id.
  absl::StatusOr<std::string> AddGroup();
  absl::Status RemoveGroup(const std::string& group);
};

}  // namespace penncloud::coordinator
