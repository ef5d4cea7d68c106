// Membership changes requested from the admin console: a replica added to or removed from
// a data group. Each answers at once (202) and the work goes on in the background, one
// change at a time; the console follows it in the overview (the new node appears as a
// learner, then a voter; a removed one leaves the group and is stopped).
//
// Adding launches the new replica's process itself: a sibling replica's launch record is
// copied with a new id (one above every id the group has used), a free port on the same
// host, a fresh data folder beside the sibling's, and --join (docs/sharding.md section 7);
// then kvs::shard::AddReplica takes it in through the group's log and the map.
//
// Adding a group launches three replicas the same way (group id one above every id used),
// plans the group into the map and drives the rebalance to its end under the rebalancer
// lease; removing one drives its ranges away, then stops its processes.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "coordinator/cluster_poller.h"
#include "coordinator/launcher.h"

namespace penncloud::coordinator {

class Membership {
 public:
  // `config`: the config group's client addresses, comma-separated ("" = unsharded store,
  // where nothing can be changed from the console).
  Membership(std::string config, ClusterPoller* poller, Launcher* launcher)
      : config_(std::move(config)), poller_(poller), launcher_(launcher) {}
  ~Membership();  // waits for a change in progress

  // The new replica's node id.
  absl::StatusOr<std::string> AddReplica(const std::string& group);
  absl::Status RemoveReplica(const std::string& group, const std::string& node_id);
  // The new group's id.
  absl::StatusOr<std::string> AddGroup();
  absl::Status RemoveGroup(const std::string& group);

 private:
  // Writes the map `plan` makes of the current one, then moves the planned ranges.
  absl::Status Rebalance(
      const std::function<absl::StatusOr<cluster::ClusterMap>(const kvs::shard::ClusterMap&)>&
          plan);
  // kFailedPrecondition (409) while another change runs; else starts `work` in the
  // background.
  absl::Status RunInBackground(std::string what, std::function<absl::Status()> work);

  const std::string config_;
  ClusterPoller* const poller_;
  Launcher* const launcher_;
  std::mutex mu_;
  std::thread worker_;  // GUARDED_BY(mu_)
  std::atomic<bool> busy_{false};
};

}  // namespace penncloud::coordinator
