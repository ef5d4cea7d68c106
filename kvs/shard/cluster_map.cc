#include "kvs/shard/cluster_map.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"

namespace penncloud::kvs::shard {
namespace {

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("cluster map: ", why));
}

RingRange ToRingRange(const cluster::RingRange& range) { return {range.start(), range.end()}; }

// Inclusive, non-wrapping pieces of ring positions, labelled with who they belong to.
struct Piece {
  uint64_t lo;
  uint64_t hi;
  uint64_t label;
};

// Appends (start, end] as one or two pieces that do not wrap.
void AddPieces(const cluster::RingRange& range, uint64_t label, std::vector<Piece>* pieces) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const uint64_t start = range.start();
  const uint64_t end = range.end();
  if (start < end) {
    pieces->push_back({start + 1, end, label});
    return;
  }
  if (start != kMax) pieces->push_back({start + 1, kMax, label});
  pieces->push_back({0, end, label});
}

void SortPieces(std::vector<Piece>* pieces) {
  std::sort(pieces->begin(), pieces->end(),
            [](const Piece& a, const Piece& b) { return a.lo < b.lo; });
}

std::vector<GroupId> ServingGroups(const cluster::ClusterMap& map) {
  std::vector<GroupId> ids;
  for (const cluster::Group& group : map.groups()) {
    if (group.state() == cluster::GROUP_SERVING) ids.push_back(group.id());
  }
  return ids;
}

bool Unswitched(cluster::MigrationState state) {
  return state == cluster::MIGRATION_PLANNED || state == cluster::MIGRATION_FROZEN ||
         state == cluster::MIGRATION_INSTALLED;
}

absl::Status CheckGroups(const cluster::ClusterMap& map) {
  std::set<GroupId> ids;
  std::map<std::string, std::string> address_owner;
  int serving = 0;
  for (const cluster::Group& group : map.groups()) {
    if (group.id() == 0) return Invalid("group id 0 (ids start at 1)");
    if (!ids.insert(group.id()).second)
      return Invalid(absl::StrCat("duplicate group ", group.id()));
    if (group.replicas().empty()) return Invalid(absl::StrCat("group ", group.id(), " is empty"));
    if (group.state() == cluster::GROUP_SERVING) {
      ++serving;
    } else if (group.state() != cluster::GROUP_LEAVING) {
      return Invalid(absl::StrCat("group ", group.id(), " has no state"));
    }
    std::set<uint64_t> replica_ids;
    bool has_voter = false;
    for (const cluster::Replica& replica : group.replicas()) {
      const std::string who = absl::StrCat("group ", group.id(), " replica ", replica.id());
      if (replica.id() == 0)
        return Invalid(absl::StrCat("group ", group.id(), " has replica id 0"));
      if (!replica_ids.insert(replica.id()).second) {
        return Invalid(absl::StrCat("group ", group.id(), " has duplicate replica ", replica.id()));
      }
      if (replica.address().empty()) return Invalid(absl::StrCat(who, " has no address"));
      for (const std::string& address : {replica.address(), replica.peer_address()}) {
        if (address.empty()) continue;
        auto [it, fresh] = address_owner.emplace(address, who);
        if (!fresh && it->second != who) {
          return Invalid(
              absl::StrCat("address ", address, " is used by ", it->second, " and ", who));
        }
      }
      has_voter |= !replica.learner();
    }
    if (!has_voter) return Invalid(absl::StrCat("group ", group.id(), " has no voting replica"));
  }
  if (serving == 0) return Invalid("no serving group");
  return absl::OkStatus();
}

absl::Status CheckMigrations(const cluster::ClusterMap& map, const HashRing& ring) {
  std::map<GroupId, cluster::GroupState> states;
  for (const cluster::Group& group : map.groups()) states[group.id()] = group.state();
  std::set<uint64_t> ids;
  std::vector<Piece> pieces;
  for (const cluster::Migration& m : map.migrations()) {
    const std::string name = absl::StrCat("migration ", m.id());
    if (m.id() == 0) return Invalid("migration id 0 (ids start at 1)");
    if (!ids.insert(m.id()).second) return Invalid(absl::StrCat("duplicate ", name));
    if (m.id() >= map.next_migration_id()) {
      return Invalid(
          absl::StrCat(name, " is not below next_migration_id ", map.next_migration_id()));
    }
    if (!states.contains(m.from_group())) {
      return Invalid(absl::StrCat(name, " moves from unknown group ", m.from_group()));
    }
    if (!states.contains(m.to_group())) {
      return Invalid(absl::StrCat(name, " moves to unknown group ", m.to_group()));
    }
    if (m.from_group() == m.to_group()) return Invalid(absl::StrCat(name, " moves nowhere"));
    if (states[m.to_group()] != cluster::GROUP_SERVING) {
      return Invalid(absl::StrCat(name, " moves to group ", m.to_group(), ", which is leaving"));
    }
    if (m.state() == cluster::MIGRATION_STATE_UNSPECIFIED) {
      return Invalid(absl::StrCat(name, " has no state"));
    }
    const RingRange range = ToRingRange(m.range());
    if (ring.OwnerOf(range.end) != m.to_group()) {
      return Invalid(
          absl::StrCat(name, " moves a range the ring does not give to group ", m.to_group()));
    }
    AddPieces(m.range(), m.id(), &pieces);
  }
  // Sorted by lo, pieces are disjoint exactly when each starts after every earlier one ends.
  SortPieces(&pieces);
  for (size_t i = 1, widest = 0; i < pieces.size(); ++i) {
    if (pieces[i].lo <= pieces[widest].hi) {
      return Invalid(absl::StrCat("migration ", pieces[i].label, " overlaps migration ",
                                  pieces[widest].label));
    }
    if (pieces[i].hi > pieces[widest].hi) widest = i;
  }
  return absl::OkStatus();
}

// ValidateMap, keeping the ring it had to build anyway.
absl::StatusOr<HashRing> ValidateAndBuildRing(const cluster::ClusterMap& map) {
  if (map.version() == 0) return Invalid("version 0 (versions start at 1)");
  if (map.virtual_nodes() < 1 || map.virtual_nodes() > HashRing::kMaxVirtualNodes) {
    return Invalid(absl::StrCat("virtual_nodes is ", map.virtual_nodes(), "; want 1..",
                                HashRing::kMaxVirtualNodes));
  }
  if (map.groups().empty()) return Invalid("no groups");
  if (auto s = CheckGroups(map); !s.ok()) return s;
  absl::StatusOr<HashRing> ring = HashRing::Build(ServingGroups(map), map.virtual_nodes());
  if (!ring.ok()) return ring.status();
  if (auto s = CheckMigrations(map, *ring); !s.ok()) return s;
  return ring;
}

absl::Status CheckNoRebalance(const ClusterMap& current) {
  if (current.proto().migrations_size() > 0) {
    return absl::FailedPreconditionError(absl::StrCat("cluster map: a rebalance is in progress (",
                                                      current.proto().migrations_size(),
                                                      " migrations left); let it finish first"));
  }
  return absl::OkStatus();
}

// Adds one PLANNED migration per move to `next` (whose version is already bumped).
absl::StatusOr<cluster::ClusterMap> WithMoves(const ClusterMap& current, cluster::ClusterMap next) {
  auto ring = HashRing::Build(ServingGroups(next), next.virtual_nodes());
  if (!ring.ok()) return ring.status();
  const std::vector<RangeMove> moves = DiffRings(current.ring(), *ring);
  next.set_next_migration_id(std::max<uint64_t>(next.next_migration_id(), 1));
  for (const RangeMove& move : moves) {
    cluster::Migration* m = next.add_migrations();
    m->set_id(next.next_migration_id());
    next.set_next_migration_id(next.next_migration_id() + 1);
    m->mutable_range()->set_start(move.range.start);
    m->mutable_range()->set_end(move.range.end);
    m->set_from_group(move.from);
    m->set_to_group(move.to);
    m->set_state(cluster::MIGRATION_PLANNED);
  }
  next.set_rebalance_ranges_total(moves.size());
  next.set_rebalance_ranges_done(0);
  next.set_rebalance_bytes_done(0);
  if (auto s = ValidateMap(next); !s.ok()) return s;
  return next;
}

}  // namespace

absl::Status ValidateMap(const cluster::ClusterMap& map) {
  return ValidateAndBuildRing(map).status();
}

ClusterMap::ClusterMap(cluster::ClusterMap proto, std::string bytes, HashRing ring)
    : proto_(std::move(proto)), bytes_(std::move(bytes)), ring_(std::move(ring)) {
  std::vector<Piece> pieces;
  for (const cluster::Migration& m : proto_.migrations()) {
    if (Unswitched(m.state())) AddPieces(m.range(), m.from_group(), &pieces);
  }
  SortPieces(&pieces);
  for (const Piece& piece : pieces) overrides_.push_back({piece.lo, piece.hi, piece.label});
}

absl::StatusOr<ClusterMap> ClusterMap::FromProto(cluster::ClusterMap proto) {
  absl::StatusOr<HashRing> ring = ValidateAndBuildRing(proto);
  if (!ring.ok()) return ring.status();
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) return Invalid("cannot serialize");
  return ClusterMap(std::move(proto), std::move(bytes), *std::move(ring));
}

absl::StatusOr<ClusterMap> ClusterMap::Parse(std::string_view bytes) {
  cluster::ClusterMap proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("cluster map: stored bytes do not parse");
  }
  absl::StatusOr<HashRing> ring = ValidateAndBuildRing(proto);
  if (!ring.ok()) return ring.status();
  return ClusterMap(std::move(proto), std::string(bytes), *std::move(ring));
}

GroupId ClusterMap::GroupOfPosition(uint64_t position) const {
  auto it = std::upper_bound(overrides_.begin(), overrides_.end(), position,
                             [](uint64_t p, const Override& o) { return p < o.lo; });
  if (it != overrides_.begin()) {
    --it;
    if (position <= it->hi) return it->group;
  }
  return ring_.OwnerOf(position);
}

const cluster::Group* ClusterMap::FindGroup(GroupId id) const {
  for (const cluster::Group& group : proto_.groups()) {
    if (group.id() == id) return &group;
  }
  return nullptr;
}

const cluster::Migration* ClusterMap::FindMigration(uint64_t id) const {
  for (const cluster::Migration& m : proto_.migrations()) {
    if (m.id() == id) return &m;
  }
  return nullptr;
}

std::vector<RangeMove> DiffMaps(const ClusterMap& before, const ClusterMap& after) {
  return DiffRings(before.ring(), after.ring());
}

absl::StatusOr<cluster::ClusterMap> PlanAddGroup(const ClusterMap& current, cluster::Group group) {
  if (auto s = CheckNoRebalance(current); !s.ok()) return s;
  if (current.FindGroup(group.id()) != nullptr) {
    return Invalid(absl::StrCat("group ", group.id(), " already exists"));
  }
  cluster::ClusterMap next = current.proto();
  next.set_version(current.version() + 1);
  group.set_state(cluster::GROUP_SERVING);
  *next.add_groups() = std::move(group);
  return WithMoves(current, std::move(next));
}

absl::StatusOr<cluster::ClusterMap> PlanRemoveGroup(const ClusterMap& current, GroupId id) {
  if (auto s = CheckNoRebalance(current); !s.ok()) return s;
  const cluster::Group* group = current.FindGroup(id);
  if (group == nullptr) return Invalid(absl::StrCat("unknown group ", id));
  if (group->state() != cluster::GROUP_SERVING) {
    return Invalid(absl::StrCat("group ", id, " is already leaving"));
  }
  cluster::ClusterMap next = current.proto();
  next.set_version(current.version() + 1);
  for (cluster::Group& g : *next.mutable_groups()) {
    if (g.id() == id) g.set_state(cluster::GROUP_LEAVING);
  }
  if (ServingGroups(next).empty()) return Invalid(absl::StrCat("group ", id, " is the last one"));
  return WithMoves(current, std::move(next));
}

absl::StatusOr<cluster::ClusterMap> AdvanceMigration(const ClusterMap& current, uint64_t id,
                                                     cluster::MigrationState state,
                                                     uint64_t cells_copied, uint64_t bytes_copied) {
  cluster::ClusterMap next = current.proto();
  next.set_version(current.version() + 1);
  cluster::Migration* found = nullptr;
  for (cluster::Migration& m : *next.mutable_migrations()) {
    if (m.id() == id) found = &m;
  }
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("cluster map: no migration ", id));
  if (state < found->state()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster map: migration ", id, " is ", cluster::MigrationState_Name(found->state()),
        "; cannot go back to ", cluster::MigrationState_Name(state)));
  }
  if (state == cluster::MIGRATION_DONE && found->state() != cluster::MIGRATION_DONE) {
    next.set_rebalance_ranges_done(next.rebalance_ranges_done() + 1);
    next.set_rebalance_bytes_done(next.rebalance_bytes_done() + bytes_copied);
  }
  found->set_state(state);
  found->set_cells_copied(cells_copied);
  found->set_bytes_copied(bytes_copied);
  if (auto s = ValidateMap(next); !s.ok()) return s;
  return next;
}

std::optional<cluster::ClusterMap> Tidy(const ClusterMap& current) {
  cluster::ClusterMap next = current.proto();
  next.clear_migrations();
  std::set<GroupId> still_moving;
  for (const cluster::Migration& m : current.proto().migrations()) {
    if (m.state() == cluster::MIGRATION_DONE) continue;
    *next.add_migrations() = m;
    still_moving.insert(m.from_group());
  }
  next.clear_groups();
  for (const cluster::Group& g : current.proto().groups()) {
    if (g.state() == cluster::GROUP_LEAVING && !still_moving.contains(g.id())) continue;
    *next.add_groups() = g;
  }
  if (next.migrations_size() == current.proto().migrations_size() &&
      next.groups_size() == current.proto().groups_size()) {
    return std::nullopt;
  }
  next.set_version(current.version() + 1);
  return next;
}

}  // namespace penncloud::kvs::shard
