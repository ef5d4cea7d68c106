// The cluster map (proto/cluster.proto) as the rest of PennCloud uses it: validated once,
// with its hash ring derived, answering "which group serves this row?" in O(log n).
//
// Routing rule: a row goes to the owner of its position on the ring of the serving groups,
// except when an unswitched migration (PLANNED, FROZEN or INSTALLED) covers the position:
// then it goes to the migration's source, which keeps serving the range until the
// destination holds it durably and the switch is recorded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvs/shard/hash_ring.h"
#include "proto/cluster.pb.h"

namespace penncloud::kvs::shard {

inline constexpr uint32_t kDefaultVirtualNodes = 192;

// Every rule a map must satisfy, with an error naming the first one broken: version >= 1,
// 1..4096 virtual nodes, unique non-zero group ids, no group without replicas or without a
// voter, unique replica ids within a group, unique addresses across the cluster, at least
// one serving group, and migrations that name known groups, move toward a serving group
// that owns the range on the ring, and do not overlap.
absl::Status ValidateMap(const cluster::ClusterMap& map);

class ClusterMap {
 public:
  static absl::StatusOr<ClusterMap> FromProto(cluster::ClusterMap proto);
  // Parses stored bytes and keeps them, so a compare-and-put can expect exactly them.
  static absl::StatusOr<ClusterMap> Parse(std::string_view bytes);

  const cluster::ClusterMap& proto() const { return proto_; }
  const std::string& bytes() const { return bytes_; }
  uint64_t version() const { return proto_.version(); }
  // The ring of the serving groups (the target placement once migrations finish).
  const HashRing& ring() const { return ring_; }

  GroupId GroupOfPosition(uint64_t position) const;
  GroupId GroupOfRow(std::string_view row) const { return GroupOfPosition(RingPosition(row)); }

  const cluster::Group* FindGroup(GroupId id) const;
  const cluster::Migration* FindMigration(uint64_t id) const;

 private:
  // Positions lo..hi (inclusive) served by `group` because of an unswitched migration.
  struct Override {
    uint64_t lo;
    uint64_t hi;
    GroupId group;
  };

  ClusterMap(cluster::ClusterMap proto, std::string bytes, HashRing ring);

  cluster::ClusterMap proto_;
  std::string bytes_;
  HashRing ring_;
  std::vector<Override> overrides_;  // sorted by lo, disjoint
};

// The ranges whose ring owner differs between two maps (ring to ring; migrations aside).
std::vector<RangeMove> DiffMaps(const ClusterMap& before, const ClusterMap& after);

// The next map version with `group` added to the ring, and one PLANNED migration for each
// range it takes over. Refused while an earlier rebalance still has migrations.
absl::StatusOr<cluster::ClusterMap> PlanAddGroup(const ClusterMap& current, cluster::Group group);

// The next map version with group `id` LEAVING the ring, and one PLANNED migration for each
// of its ranges. Refused while an earlier rebalance still has migrations.
absl::StatusOr<cluster::ClusterMap> PlanRemoveGroup(const ClusterMap& current, GroupId id);

// The next map version with migration `id` in `state` (which must not go backwards) and
// its progress counters set. A DONE migration is left in the map until Tidy.
absl::StatusOr<cluster::ClusterMap> AdvanceMigration(const ClusterMap& current, uint64_t id,
                                                     cluster::MigrationState state,
                                                     uint64_t cells_copied, uint64_t bytes_copied);

// The next map version without DONE migrations, and without LEAVING groups that no
// migration still moves data out of; nullopt if there is nothing to tidy.
std::optional<cluster::ClusterMap> Tidy(const ClusterMap& current);

}  // namespace penncloud::kvs::shard
