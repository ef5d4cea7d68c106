// kvsctl's cluster commands (docs/sharding.md section 9): they read and change the cluster
// map in the config group and push every map they write to the data groups.
#pragma once

#include <string>
#include <vector>

namespace penncloud::kvs::kvsctl {

struct ClusterFlags {
  std::string config;  // the config group's client addresses
  int timeout_ms = 10000;
  int virtual_nodes = 192;
  bool no_wait = false;  // group add/remove: only plan, leave the moves to `rebalance`
};

// Runs `args` (starting with "cluster", "group" or "rebalance"); returns the exit status.
int RunClusterCommand(const std::vector<std::string>& args, const ClusterFlags& flags);

}  // namespace penncloud::kvs::kvsctl
