#include "tests/support/kvs_cluster.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/shard/config_store.h"

namespace penncloud::testing {

absl::StatusOr<std::unique_ptr<KvsCluster>> KvsCluster::Start(KvsClusterOptions options) {
  std::unique_ptr<KvsCluster> cluster(new KvsCluster());
  cluster->options_ = std::move(options);
  KvsGroupOptions config_options;
  config_options.run_dir = cluster->options_.run_dir;
  config_options.record_prefix = "kvs-config-r";
  auto config = KvsGroup::Start(config_options);
  if (!config.ok()) return config.status();
  cluster->config_ = std::move(*config);
  for (int id = 1; id <= cluster->options_.data_groups; ++id) {
    if (absl::Status s = cluster->StartGroup(id); !s.ok()) return s;
  }
  return cluster;
}

absl::Status KvsCluster::StartGroup(kvs::shard::GroupId id) {
  KvsGroupOptions group_options;
  group_options.replicas = options_.replicas;
  group_options.extra_flags = options_.extra_flags;
  group_options.run_dir = options_.run_dir;
  group_options.record_prefix = absl::StrCat("kvs-g", id, "-r");
  group_options.extra_flags.push_back(absl::StrCat("--group=", id));
  group_options.extra_flags.push_back(absl::StrCat("--config=", config_->spec()));
  // Fast enough that a test never waits long for a map, slow enough to cost nothing.
  group_options.extra_flags.push_back("--map_poll_ms=100");
  auto group = KvsGroup::Start(group_options);
  if (!group.ok()) return group.status();
  groups_[id] = std::move(*group);
  return absl::OkStatus();
}

cluster::Group KvsCluster::Entry(kvs::shard::GroupId id) const {
  const KvsGroup& g = *groups_.at(id);
  cluster::Group entry;
  entry.set_id(id);
  entry.set_state(cluster::GROUP_SERVING);
  for (int i = 0; i < g.size(); ++i) {
    cluster::Replica* replica = entry.add_replicas();
    replica->set_id(i + 1);
    replica->set_address(g.address(i));
  }
  return entry;
}

absl::StatusOr<kvs::shard::ClusterMap> KvsCluster::Initialize(
    const std::vector<kvs::shard::GroupId>& groups, uint32_t virtual_nodes) {
  cluster::ClusterMap map;
  map.set_version(1);
  map.set_virtual_nodes(virtual_nodes);
  map.set_next_migration_id(1);
  for (kvs::shard::GroupId id : groups) *map.add_groups() = Entry(id);
  std::vector<std::string> addresses;
  for (int i = 0; i < config_->size(); ++i) addresses.push_back(config_->address(i));
  kvs::ReplicaGroupClient client(addresses);
  kvs::shard::ConfigStore store(client);
  return store.Initialize(std::move(map));
}

absl::Status KvsCluster::WaitForMap(uint64_t version, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& [id, group] : groups_) {
    std::vector<std::string> addresses;
    for (int i = 0; i < group->size(); ++i) {
      if (group->running(i)) addresses.push_back(group->address(i));
    }
    kvs::ReplicaGroupOptions quick;
    quick.attempt_timeout = std::chrono::milliseconds(300);
    kvs::ReplicaGroupClient client(addresses, quick);
    while (true) {
      bool all = true;
      for (const auto& [address, status] : client.StatusAll()) {
        if (!status.ok() || status->map_version() < version) all = false;
      }
      if (all) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("group ", id, " did not apply map ", version, "; logs in ", group->dir()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return absl::OkStatus();
}

}  // namespace penncloud::testing
