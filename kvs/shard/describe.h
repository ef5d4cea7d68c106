// Text forms of the cluster map for operators: parsing a group from the command line and
// describing a map and its rebalance (kvsctl `cluster show`, `group add`; the admin
// console shows the same facts).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kvs/shard/cluster_map.h"

namespace penncloud::kvs::shard {

// Group `id` from "1=host:port,2=host:port,...", every replica a voter, state SERVING.
absl::StatusOr<cluster::Group> ParseGroup(GroupId id, std::string_view replicas);

// One line, e.g. "rebalance: 57/190 ranges done, 245.0 MiB moved, 133 ranges left", or
// "no rebalance in progress".
std::string DescribeProgress(const ClusterMap& map);

// Several lines: version, virtual nodes, each group (state, share of the ring, replicas),
// then the rebalance progress and the count of migrations in each state.
std::string DescribeMap(const ClusterMap& map);

}  // namespace penncloud::kvs::shard
