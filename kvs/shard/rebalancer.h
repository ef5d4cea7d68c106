// The rebalancer: drives every migration of the cluster map through the steps of
// docs/sharding.md section 6 (freeze, install, switch, release, activate, drop), records
// each step in the map, and tidies the map when all are done.
//
// Each step is carried out by a group (a command in its Paxos log, proposed by its leader)
// through the GroupSteps interface (gRPC: GrpcGroupSteps; tests use fakes). Every step is
// idempotent and the map records how far each migration got, so Run() after any failure
// or crash (of this process or of any replica) continues where the last run stopped.
// Several ranges move at once (`parallel`); the steps of one range stay in order, and the
// map writes of all of them are group-committed (one map version for all the steps
// recorded meanwhile), so they never race each other.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvs/shard/cluster_map.h"
#include "kvs/shard/config_store.h"
#include "kvs/shard/rebalancer_lease.h"

namespace penncloud::kvs::shard {

struct InstallResult {
  uint64_t cells = 0;
  uint64_t bytes = 0;
};

// What the rebalancer asks of the groups. Each call returns once the group has applied the
// step (chosen in its log), and may be repeated. Calls for different migrations may come
// from several threads at once.
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
  // Abort (before the switch only): at m.to_group, delete whatever of the range arrived
  // and never serve it; at m.from_group, take writes to the range again.
  virtual absl::Status Discard(const cluster::Migration& m) = 0;
  virtual absl::Status Unfreeze(const cluster::Migration& m) = 0;
};

struct RebalanceProgress {
  uint64_t map_version = 0;
  uint64_t ranges_total = 0;
  uint64_t ranges_done = 0;
  uint64_t bytes_done = 0;
  uint64_t ranges_in_flight = 0;  // frozen, installed or switched, not done
};

struct RebalancerOptions {
  int parallel = 1;  // ranges moved at once (1..64)
  // When set, taken before any step, renewed between steps, released at the end: a run
  // that cannot take it (another rebalancer works) changes nothing.
  RebalancerLease* lease = nullptr;
};

class Rebalancer {
 public:
  Rebalancer(ConfigStore& store, GroupSteps& steps, RebalancerOptions options = {})
      : store_(store), steps_(steps), options_(options) {}

  // Drives the rebalance in the stored map to its end (no-op when there is none), calling
  // `progress` after every recorded step. The first error stops the run; run again.
  absl::Status Run(const std::function<void(const RebalanceProgress&)>& progress = {});

  // Undoes the rebalance in the stored map, if none of its ranges has been switched yet:
  // every frozen range is discarded at its destination and unfrozen at its source, then
  // the map returns to the previous ring (an added group leaves it, a leaving group
  // serves again). kFailedPrecondition once a range is switched: only forward then.
  absl::Status Abort();

 private:
  // Drives one migration from the state the map records to DONE.
  absl::Status Drive(cluster::Migration m);
  // Records migration `id` in `state` in the map and pushes the new map to every group.
  absl::StatusOr<ClusterMap> Record(uint64_t id, cluster::MigrationState state,
                                    InstallResult counts, bool push);
  struct PendingRecord {
    uint64_t id;
    cluster::MigrationState state;
    InstallResult counts;
    bool done = false;
    absl::StatusOr<ClusterMap> result = absl::UnknownError("not written");
  };
  // Writes the records of `batch` as one new map version.
  absl::StatusOr<ClusterMap> WriteBatch(const std::vector<PendingRecord*>& batch);
  absl::Status PushToAll(const ClusterMap& map);
  absl::Status Renew();

  ConfigStore& store_;
  GroupSteps& steps_;
  const RebalancerOptions options_;
  std::mutex record_mu_;
  std::condition_variable record_cv_;
  std::vector<PendingRecord*> pending_;  // GUARDED_BY(record_mu_)
  bool writing_ = false;                 // GUARDED_BY(record_mu_): a batch is being written
  std::mutex lease_mu_;
  std::function<void(const RebalanceProgress&)> progress_;
};

}  // namespace penncloud::kvs::shard
