#include "kvs/machine/ownership.h"

#include "absl/strings/str_cat.h"

namespace penncloud::kvs::machine {

bool InRange(const pb::MigrationEntry& m, uint64_t p) {
  if (m.start() < m.end()) return p > m.start() && p <= m.end();
  return p > m.start() || p <= m.end();
}

Verdict Judge(uint64_t group, const shard::ClusterMap* map, const pb::MigrationTable& table,
              uint64_t position, bool write, std::string* why) {
  if (group == 0 || map == nullptr) return Verdict::kServe;
  const bool mapped_here = map->GroupOfPosition(position) == group;
  // The newest migration of this group that covers the row decides (ids only grow, so a
  // range that moved away and back is judged by its latest move).
  const pb::MigrationEntry* latest = nullptr;
  for (const pb::MigrationEntry& e : table.entries()) {
    const shard::RingRange range{e.start(), e.end()};
    if (!range.Contains(position)) continue;
    if (latest == nullptr || e.id() > latest->id()) latest = &e;
  }
  auto wrong = [&] {
    *why = absl::StrCat("group ", group, " does not serve row position ", position);
    return Verdict::kWrongGroup;
  };
  if (latest != nullptr && latest->from_group() == group) {
    if (latest->step() == pb::STEP_RELEASED || latest->step() == pb::STEP_DROPPED) return wrong();
    if (mapped_here && write && latest->step() == pb::STEP_FROZEN) {
      *why = absl::StrCat("range frozen for migration ", latest->id());
      return Verdict::kUnavailable;
    }
  }
  if (latest != nullptr && latest->to_group() == group) {
    if (latest->step() == pb::STEP_ACTIVE) return Verdict::kServe;
    if (mapped_here) {
      *why = absl::StrCat("range arriving with migration ", latest->id());
      return Verdict::kUnavailable;
    }
    return wrong();
  }
  return mapped_here ? Verdict::kServe : wrong();
}

}  // namespace penncloud::kvs::machine
