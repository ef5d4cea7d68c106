// A Client over a sharded store: caches the cluster map, sends each row to the client of
// the group that serves it, and when a group answers "wrong group" (kvs/shard/wrong_group.h)
// refreshes the map from the config group and tries again, a bounded number of times.
//
// Retrying elsewhere is safe because a replica answers "wrong group" only for a request it
// did not apply (docs/sharding.md, "The wrong-group contract").
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "kvs/shard/cluster_map.h"
#include "kvs/shard/config_store.h"

namespace penncloud::kvs::shard {

// Makes the client of one group from its map entry.
using GroupClientFactory =
    std::function<absl::StatusOr<std::unique_ptr<Client>>(const cluster::Group& group)>;

// The production factory: a ReplicaGroupClient over the group's replica addresses, all
// groups sharing one session pool.
GroupClientFactory ConnectGroupFactory();

struct ShardedClientOptions {
  // Routing attempts per call (each may follow a map refresh).
  int max_attempts = 8;
  // Pause before retrying when a refresh brought no newer map (a group is still catching up
  // with the map), doubled on each such retry.
  std::chrono::milliseconds retry_backoff{10};
  // A map older than this is re-read before use, so routing converges even without errors.
  std::chrono::milliseconds max_map_age{std::chrono::seconds(60)};
};

class ShardedClient final : public Client {
 public:
  ShardedClient(std::shared_ptr<Client> config_group, GroupClientFactory factory,
                ShardedClientOptions options = {});

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override;
  // At the group the cached map names, when the map is fresh and that group's client made:
  // anything that would need a map read, a new client or a retry (a wrong-group answer, an
  // outage) declines, and Get does it.
  void StartGet(std::string_view row, std::string_view column,
                std::function<void(StartedGet)> done) override;
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override;
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override;
  absl::Status Delete(std::string_view row, std::string_view column) override;
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override;
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override;
  // At the group that serves the row; a range that moved away ends the group's watch, and
  // the watch starts again at the new group with the same `known` (nothing is missed).
  absl::StatusOr<std::vector<WatchedCell>> Watch(std::string_view row,
                                                 const std::vector<WatchedCell>& known,
                                                 std::chrono::milliseconds timeout,
                                                 WatchCancel* cancel) override;

  // Re-reads the map now.
  absl::Status Refresh();
  // The version of the cached map (0 before the first call loads it).
  uint64_t map_version() const;

 private:
  struct GroupClient {
    std::string members;  // the replica addresses it was made for
    std::shared_ptr<Client> client;
  };
  struct Route {
    std::shared_ptr<const ClusterMap> map;
    std::shared_ptr<Client> client;
  };

  // `read`: the operation may be repeated safely (Get, List).
  template <typename Result, typename Op>
  Result Call(std::string_view row, const Op& op, bool read = false);

  absl::StatusOr<std::shared_ptr<const ClusterMap>> CurrentMap();
  // Re-reads the map unless someone already replaced `seen` with a newer one.
  absl::StatusOr<std::shared_ptr<const ClusterMap>> RefreshFrom(uint64_t seen);
  absl::StatusOr<Route> RouteFor(std::string_view row);

  const std::shared_ptr<Client> config_group_;
  ConfigStore store_;
  const GroupClientFactory factory_;
  const ShardedClientOptions options_;

  mutable std::mutex mu_;
  std::shared_ptr<const ClusterMap> map_;           // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point map_read_;  // GUARDED_BY(mu_)
  std::map<GroupId, GroupClient> clients_;          // GUARDED_BY(mu_)
  std::mutex refresh_mu_;                           // one refresh at a time; taken before mu_
};

}  // namespace penncloud::kvs::shard
