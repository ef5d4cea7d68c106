// One value that says how the sharded cluster is doing (docs/sharding.md section 8): the
// map version, each group's replicas as they answer Status, and the rebalance in progress
// with ranges and bytes done, an estimate of the bytes still to move and of the time
// left. `kvsctl cluster status` and `kvsctl rebalance progress` print it; the coordinator's
// admin console calls ReadClusterStatus in-process and shows the same numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kvs/shard/cluster_map.h"
#include "kvs/shard/config_store.h"
#include "kvs/shard/rebalancer_lease.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::shard {

struct RebalanceEstimate {
  bool in_progress = false;  // the map holds migrations
  uint64_t ranges_total = 0;
  uint64_t ranges_done = 0;
  uint64_t ranges_in_flight = 0;  // FROZEN, INSTALLED or SWITCHED
  uint64_t bytes_done = 0;        // copied by finished ranges
  // bytes_done scaled by the ring share still to move (rows are spread evenly over the
  // ring by MD5); 0 until the first range is done.
  uint64_t bytes_total_estimate = 0;
  double ring_share_moving = 0;  // of the whole ring, by every migration of the rebalance
  double ring_share_done = 0;
  int64_t started_unix_ms = 0;  // 0 = no step recorded yet
  absl::Duration elapsed = absl::ZeroDuration();
  // At the rate so far; absent until a range is done.
  std::optional<absl::Duration> time_left;
};

// The rebalance recorded in `map`, as of `now`. Pure: no I/O.
RebalanceEstimate EstimateRebalance(const ClusterMap& map, absl::Time now);

struct ReplicaStatus {
  uint64_t id = 0;
  std::string address;
  absl::StatusOr<pb::StatusResponse> status;  // an error when it did not answer
};

struct GroupStatus {
  const cluster::Group* group = nullptr;  // points into ClusterStatus::map
  std::vector<ReplicaStatus> replicas;
  std::string leader;  // client address of the replica that says it leads ("" = none)
};

struct ClusterStatus {
  ClusterMap map;
  std::vector<GroupStatus> groups;  // in map order
  RebalanceEstimate rebalance;
  std::optional<LeaseHolder> rebalancer;  // who holds the rebalancer lease, if anyone
};

// Asks one group's replicas for their Status (bounded by the caller's deadline).
using GroupProber = std::function<std::vector<ReplicaStatus>(const cluster::Group&)>;

// Probes over gRPC with `timeout` per replica.
GroupProber GrpcGroupProber(absl::Duration timeout);

// Reads the map (kNotFound before `cluster init`) and the rebalancer lease from the config
// group, and probes every group.
absl::StatusOr<ClusterStatus> ReadClusterStatus(ConfigStore& store, Client& config_group,
                                                const GroupProber& probe, absl::Time now);

// Connects to the config group at "host:port,host:port,..." and reads the status, each
// replica probed with `timeout`: the in-process call for the admin console.
absl::StatusOr<ClusterStatus> ReadClusterStatus(const std::string& config_addresses,
                                                absl::Duration timeout = absl::Seconds(1));

// "rebalance: 57/190 ranges done (3 in flight), 245.0 of ~816.3 MiB moved, 35 s left".
std::string DescribeRebalance(const RebalanceEstimate& estimate);

// The whole status for operators: map version, each group with its replicas (role,
// applied slot, map version, or the error), the lease holder and the rebalance.
std::string DescribeClusterStatus(const ClusterStatus& status);

}  // namespace penncloud::kvs::shard
