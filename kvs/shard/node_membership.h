// Adding, removing and replacing one replica of a group (docs/sharding.md section 7). The
// group's own Paxos log decides: the replica is added as a learner (after an OP_SET_PEER
// that tells every member its addresses), catches up by log or snapshot, and is promoted
// once the core finds it caught up; a removed leader steps down once the change governs
// and the remaining voters elect a successor. In a sharded cluster the map's replica list
// then follows: it is written (and pushed to the groups) only after the group's log has
// chosen each change. Used by `kvsctl node ...` and the admin console, in-process.
//
// Every call is idempotent: run again after a failure (or a crash of the caller), it
// continues from what the group's log and the map already say.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/shard/cluster_map.h"

namespace penncloud::kvs::shard {

// Which group. Sharded: the config group's client addresses and the group's id (its
// replicas come from the map). Unsharded (config empty): the group's client addresses.
struct GroupTarget {
  std::string config;
  uint64_t group = 0;
  std::vector<std::string> addresses;
};

struct NewReplica {
  uint64_t id = 0;           // the Paxos node id, unique within the group, never reused
  std::string address;       // client address host:port
  std::string peer_address;  // replica-to-replica address; "" = address
};

struct NodeChangeOptions {
  // The whole change, including the new replica's catch-up.
  std::chrono::milliseconds timeout{60000};
  // One line per step and a catch-up line about once a second (kvsctl prints them).
  std::function<void(std::string_view)> progress;
};

// Starts nothing: the new replica's process must already run (`kvs_server --join`).
absl::Status AddReplica(const GroupTarget& target, const NewReplica& replica,
                        const NodeChangeOptions& options = {});
// The replica may be stopped once this returns OK.
absl::Status RemoveReplica(const GroupTarget& target, uint64_t id,
                           const NodeChangeOptions& options = {});
// Add `replacement`, then remove `old_id`: the group never has fewer voters than before.
absl::Status ReplaceReplica(const GroupTarget& target, uint64_t old_id,
                            const NewReplica& replacement, const NodeChangeOptions& options = {});

// Has every group in `map` apply it (InstallMap); a group that does not answer within
// `deadline` is named in `progress` and catches up by polling the config group.
void PushMapToGroups(const ClusterMap& map, std::chrono::milliseconds deadline,
                     const std::function<void(std::string_view)>& progress);

}  // namespace penncloud::kvs::shard
