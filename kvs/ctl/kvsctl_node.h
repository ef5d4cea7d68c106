// kvsctl's node commands (docs/sharding.md section 7): add, remove or replace one replica of
// a group, through the group's own log, following the map in a sharded cluster.
#pragma once

#include <string>
#include <vector>

namespace penncloud::kvs::kvsctl {

struct NodeFlags {
  std::string config;        // the config group's client addresses (sharded), or
  std::string group;         // the client addresses of an unsharded group
  std::string peer_address;  // of the replica being added ("" = its client address)
  int timeout_ms = 60000;    // the whole change, including the new replica's catch-up
};

// Runs `args` (starting with "node"); returns the exit status (0 ok, 1 error, 2 usage).
int RunNodeCommand(const std::vector<std::string>& args, const NodeFlags& flags);

}  // namespace penncloud::kvs::kvsctl
