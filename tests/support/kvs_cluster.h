// A real sharded KVS for whole-system tests: a config group plus data groups, each a
// KvsGroup of kvs_server processes started with --group and --config, so their leaders
// learn the cluster map from the config group (docs/sharding.md section 5).
//
//   auto cluster = KvsCluster::Start({.data_groups = 2});
//   (*cluster)->Initialize({1, 2});                       // map version 1
//   auto client = penncloud::kvs::Connect((*cluster)->spec());  // a ShardedClient
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/shard/cluster_map.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {

struct KvsClusterOptions {
  int data_groups = 2;  // started with ids 1..data_groups
  int replicas = 3;
  // Extra kvs_server flags for the data groups' replicas.
  std::vector<std::string> extra_flags;
  // If set, every replica gets a launch record there (KvsGroupOptions::run_dir), named
  // kvs-config-r<R> and kvs-g<G>-r<R> like scripts/start.sh's.
  std::string run_dir;
};

class KvsCluster {
 public:
  static absl::StatusOr<std::unique_ptr<KvsCluster>> Start(KvsClusterOptions options = {});

  // The Connect() spec of the sharded store: "config=host:port,...".
  std::string spec() const { return "config=" + config_->spec(); }
  KvsGroup& config() { return *config_; }
  KvsGroup& group(kvs::shard::GroupId id) { return *groups_.at(id); }

  // Starts one more data group (not yet in the map).
  absl::Status StartGroup(kvs::shard::GroupId id);
  // The map entry of a started group: its replicas and their client addresses.
  cluster::Group Entry(kvs::shard::GroupId id) const;
  // Stores map version 1 with `groups` serving.
  absl::StatusOr<kvs::shard::ClusterMap> Initialize(const std::vector<kvs::shard::GroupId>& groups,
                                                    uint32_t virtual_nodes = 64);
  // Waits until every running replica of every data group reports map `version` or newer.
  absl::Status WaitForMap(uint64_t version,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  KvsCluster() = default;

  KvsClusterOptions options_;
  std::unique_ptr<KvsGroup> config_;
  std::map<kvs::shard::GroupId, std::unique_ptr<KvsGroup>> groups_;
};

}  // namespace penncloud::testing
