#include "kvs/shard/rebalancer.h"

#include <vector>

namespace penncloud::kvs::shard {

absl::Status Rebalancer::PushToAll(const ClusterMap& map) {
  for (const cluster::Group& group : map.proto().groups()) {
    if (absl::Status s = steps_.InstallMap(group.id(), map); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<ClusterMap> Rebalancer::Record(uint64_t id, cluster::MigrationState state,
                                              InstallResult counts, bool push) {
  absl::StatusOr<ClusterMap> map = store_.Update([&](const ClusterMap& current) {
    return AdvanceMigration(current, id, state, counts.cells, counts.bytes);
  });
  if (!map.ok()) return map.status();
  if (push) {
    if (absl::Status s = PushToAll(*map); !s.ok()) return s;
  }
  return map;
}

absl::Status Rebalancer::Run(const std::function<void(const RebalanceProgress&)>& progress) {
  absl::StatusOr<ClusterMap> map = store_.Read();
  if (!map.ok()) return map.status();
  // Every group must know the plan before any of its ranges freezes (and a group that
  // missed a push while we were down catches up here).
  if (absl::Status s = PushToAll(*map); !s.ok()) return s;
  auto report = [&](const ClusterMap& m) {
    if (progress) {
      progress({m.version(), m.proto().rebalance_ranges_total(), m.proto().rebalance_ranges_done(),
                m.proto().rebalance_bytes_done()});
    }
  };
  const std::vector<cluster::Migration> migrations(map->proto().migrations().begin(),
                                                   map->proto().migrations().end());
  for (const cluster::Migration& planned : migrations) {
    cluster::Migration m = planned;
    InstallResult counts{m.cells_copied(), m.bytes_copied()};
    // Each case falls through to the next step: the map says where to resume.
    switch (m.state()) {
      case cluster::MIGRATION_PLANNED: {
        if (absl::Status s = steps_.Freeze(m); !s.ok()) return s;
        if (map = Record(m.id(), cluster::MIGRATION_FROZEN, counts, false); !map.ok()) {
          return map.status();
        }
        report(*map);
      }
        [[fallthrough]];
      case cluster::MIGRATION_FROZEN: {
        absl::StatusOr<InstallResult> installed = steps_.Install(m);
        if (!installed.ok()) return installed.status();
        counts = *installed;
        if (map = Record(m.id(), cluster::MIGRATION_INSTALLED, counts, false); !map.ok()) {
          return map.status();
        }
        report(*map);
      }
        [[fallthrough]];
      case cluster::MIGRATION_INSTALLED:
        // Routing moves to the destination, which answers "arriving" until Activate.
        if (map = Record(m.id(), cluster::MIGRATION_SWITCHED, counts, true); !map.ok()) {
          return map.status();
        }
        report(*map);
        [[fallthrough]];
      case cluster::MIGRATION_SWITCHED:
        // The source stops before the destination starts: never both serve the range.
        if (absl::Status s = steps_.Release(m); !s.ok()) return s;
        if (absl::Status s = steps_.Activate(m); !s.ok()) return s;
        if (absl::Status s = steps_.Drop(m); !s.ok()) return s;
        if (map = Record(m.id(), cluster::MIGRATION_DONE, counts, false); !map.ok()) {
          return map.status();
        }
        report(*map);
        break;
      case cluster::MIGRATION_DONE:
        break;
      default:
        return absl::InternalError("rebalancer: migration without state");
    }
  }
  if (!Tidy(*map).has_value()) return absl::OkStatus();
  absl::StatusOr<ClusterMap> tidy = store_.Update([](const ClusterMap& current) {
    std::optional<cluster::ClusterMap> next = Tidy(current);
    if (!next.has_value()) return absl::StatusOr<cluster::ClusterMap>(current.proto());
    return absl::StatusOr<cluster::ClusterMap>(*std::move(next));
  });
  if (!tidy.ok()) return tidy.status();
  report(*tidy);
  return PushToAll(*tidy);
}

}  // namespace penncloud::kvs::shard
