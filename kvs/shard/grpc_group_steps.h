// The rebalancer's GroupSteps over gRPC: each step is a KvsService.Migrate (or InstallMap)
// call on the group's leader, answered once the group has applied it. The copy of a range
// streams KvsPeer.FetchRange from a replica of the source that has applied FREEZE and
// proposes it at the destination chunk by chunk (the first chunk resets the range there,
// so a repeated Install starts over cleanly).
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "kvs/client/replica_group_client.h"
#include "kvs/shard/config_store.h"
#include "kvs/shard/rebalancer.h"

namespace penncloud::kvs::shard {

class GrpcGroupSteps final : public GroupSteps {
 public:
  // Group addresses come from the maps passed to InstallMap, else from `store`.
  explicit GrpcGroupSteps(ConfigStore& store, ReplicaGroupOptions options = {})
      : store_(store), options_(options) {}

  absl::Status InstallMap(GroupId group, const ClusterMap& map) override;
  absl::Status Freeze(const cluster::Migration& m) override;
  absl::StatusOr<InstallResult> Install(const cluster::Migration& m) override;
  absl::Status Release(const cluster::Migration& m) override;
  absl::Status Activate(const cluster::Migration& m) override;
  absl::Status Drop(const cluster::Migration& m) override;
  absl::Status Discard(const cluster::Migration& m) override;
  absl::Status Unfreeze(const cluster::Migration& m) override;

 private:
  absl::StatusOr<const cluster::Group*> FindGroup(GroupId id);
  absl::StatusOr<ReplicaGroupClient*> Client(GroupId id);
  absl::Status Step(GroupId group, pb::MigrateKind kind, const cluster::Migration& m);

  ConfigStore& store_;
  const ReplicaGroupOptions options_;
  std::mutex mu_;
  std::optional<ClusterMap> map_;                                   // GUARDED_BY(mu_)
  std::map<GroupId, std::unique_ptr<ReplicaGroupClient>> clients_;  // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<ReplicaGroupClient>> retired_;        // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs::shard
