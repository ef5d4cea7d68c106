// The cluster map as stored in the config group: one cell, row "cluster", column "map",
// holding a serialized cluster.ClusterMap. The config group is an ordinary PennCloud
// replica group, so the cell is linearizable; the map changes only by compare-and-put from
// the exact bytes of version v to version v + 1, so of two concurrent changers exactly one
// wins and the other learns that it must re-read and re-plan.
#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "kvs/shard/cluster_map.h"

namespace penncloud::kvs::shard {

inline constexpr std::string_view kMapRow = "cluster";
inline constexpr std::string_view kMapColumn = "map";

class ConfigStore {
 public:
  // `config_group` is a client of the config group; it must outlive this object.
  explicit ConfigStore(Client& config_group) : config_group_(config_group) {}

  // The current map; kNotFound if the cluster was never initialized.
  absl::StatusOr<ClusterMap> Read();

  // Stores the first map (version 1). kAlreadyExists if a map is already there.
  absl::StatusOr<ClusterMap> Initialize(cluster::ClusterMap first);

  // Replaces `current` (as read) with `next`, whose version must be current's + 1.
  // kAborted if the stored map is no longer `current` (someone else changed it first).
  absl::StatusOr<ClusterMap> Propose(const ClusterMap& current, cluster::ClusterMap next);

  // Read, plan, propose; re-reads and re-plans when another changer won, up to `attempts`
  // times. `plan` returns the next map for the given current one (version already + 1 is
  // not required: Update sets it).
  absl::StatusOr<ClusterMap> Update(
      const std::function<absl::StatusOr<cluster::ClusterMap>(const ClusterMap&)>& plan,
      int attempts = 5);

 private:
  Client& config_group_;
};

}  // namespace penncloud::kvs::shard
