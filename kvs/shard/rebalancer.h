// The rebalancer: drives every migration of the cluster map through the steps of
// docs/sharding.md section 6 (freeze, install, switch, release, activate, drop), records
// each step in the map, and tidies the map when all are done.
//
// Each step is carried out by a group (a command in its Paxos log, proposed by its leader)
// through the GroupSteps interface; the gRPC implementation comes with the server work,
// tests use fakes. Every step is idempotent and the map records how far each migration
// got, so Run() after any failure or crash (of this process or of any replica) continues
// where the last run stopped.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvs/shard/cluster_map.h"
#include "kvs/shard/config_store.h"

namespace penncloud::kvs::shard {

struct InstallResult {
  uint64_t cells = 0;
  uint64_t bytes = 0;
};

// What the rebalancer asks of the groups. Each call returns once the group has applied the
// step (chosen in its log), and may be repeated.
class GroupSteps {
 public:
  virtual ~GroupSteps() = default;

  // `group` applies `map` (if newer than the map it has).
  virtual absl::Status InstallMap(GroupId group, const ClusterMap& map) = 0;
  // At m.from_group: writes to the range are refused (retryable) from now on.
  virtual absl::Status Freeze(const cluster::Migration& m) = 0;
  // At m.to_group: copy the frozen range from the source and hold it durably, without
  // serving it. Starts over from nothing when repeated.
  virtual absl::StatusOr<InstallResult> Install(const cluster::Migration& m) = 0;
  // At m.from_group: stop serving the range.
  virtual absl::Status Release(const cluster::Migration& m) = 0;
  // At m.to_group: start serving the range (only ever called after Release).
  virtual absl::Status Activate(const cluster::Migration& m) = 0;
  // At m.from_group: delete the range's cells and session records.
  virtual absl::Status Drop(const cluster::Migration& m) = 0;
};

struct RebalanceProgress {
  uint64_t map_version = 0;
  uint64_t ranges_total = 0;
  uint64_t ranges_done = 0;
  uint64_t bytes_done = 0;
};

class Rebalancer {
 public:
  Rebalancer(ConfigStore& store, GroupSteps& steps) : store_(store), steps_(steps) {}

  // Drives the rebalance in the stored map to its end (no-op when there is none), calling
  // `progress` after every recorded step. The first error stops the run; run again.
  absl::Status Run(const std::function<void(const RebalanceProgress&)>& progress = {});

 private:
  // Records migration `id` in `state` in the map and pushes the new map to every group.
  absl::StatusOr<ClusterMap> Record(uint64_t id, cluster::MigrationState state,
                                    InstallResult counts, bool push);
  absl::Status PushToAll(const ClusterMap& map);

  ConfigStore& store_;
  GroupSteps& steps_;
};

}  // namespace penncloud::kvs::shard
