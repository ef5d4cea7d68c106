// Small builders of cluster maps for the tests of this folder.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kvs/shard/cluster_map.h"

namespace penncloud::kvs::shard::testing {

// Group `id` with three replicas at 127.0.0.1:7<id>1..7<id>3.
inline cluster::Group MakeGroup(GroupId id, int replicas = 3) {
  cluster::Group group;
  group.set_id(id);
  group.set_state(cluster::GROUP_SERVING);
  for (int r = 1; r <= replicas; ++r) {
    cluster::Replica* replica = group.add_replicas();
    replica->set_id(r);
    replica->set_address(absl::StrCat("127.0.0.1:7", id, r));
  }
  return group;
}

inline cluster::ClusterMap MakeMap(uint64_t version, const std::vector<GroupId>& groups,
                                   uint32_t virtual_nodes = kDefaultVirtualNodes) {
  cluster::ClusterMap map;
  map.set_version(version);
  map.set_virtual_nodes(virtual_nodes);
  map.set_next_migration_id(1);
  for (GroupId id : groups) *map.add_groups() = MakeGroup(id);
  return map;
}

}  // namespace penncloud::kvs::shard::testing
