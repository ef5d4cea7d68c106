#include "kvs/shard/describe.h"

#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace penncloud::kvs::shard {

absl::StatusOr<cluster::Group> ParseGroup(GroupId id, std::string_view replicas) {
  cluster::Group group;
  group.set_id(id);
  group.set_state(cluster::GROUP_SERVING);
  std::set<uint64_t> ids;
  const absl::string_view text(replicas.data(), replicas.size());
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    uint64_t replica_id = 0;
    if (!absl::SimpleAtoi(kv.first, &replica_id) || replica_id == 0 ||
        kv.second.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("group ", id, ": bad replica '", part,
                                                     "' (want id=host:port with id >= 1)"));
    }
    if (!ids.insert(replica_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("group ", id, ": replica ", replica_id, " named twice"));
    }
    cluster::Replica* replica = group.add_replicas();
    replica->set_id(replica_id);
    replica->set_address(std::string(kv.second));
  }
  if (group.replicas().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("group ", id, " is empty"));
  }
  return group;
}

std::string DescribeProgress(const ClusterMap& map) {
  const cluster::ClusterMap& p = map.proto();
  if (p.migrations().empty()) return "no rebalance in progress";
  return absl::StrFormat("rebalance: %d/%d ranges done, %.1f MiB moved, %d ranges left",
                         p.rebalance_ranges_done(), p.rebalance_ranges_total(),
                         static_cast<double>(p.rebalance_bytes_done()) / (1 << 20),
                         p.rebalance_ranges_total() - p.rebalance_ranges_done());
}

std::string DescribeMap(const ClusterMap& map) {
  const cluster::ClusterMap& p = map.proto();
  std::string out = absl::StrCat("cluster map version ", p.version(), ", ", p.virtual_nodes(),
                                 " virtual nodes per group\n");
  std::map<GroupId, double> share;
  for (const cluster::Group& group : p.groups()) {
    for (const RingRange& range : map.ring().RangesOf(group.id())) {
      share[group.id()] += static_cast<double>(range.Size()) / 18446744073709551616.0;
    }
  }
  for (const cluster::Group& group : p.groups()) {
    absl::StrAppendFormat(&out, "group %d %s, ring share %.1f%%:", group.id(),
                          group.state() == cluster::GROUP_SERVING ? "serving" : "leaving",
                          100 * share[group.id()]);
    for (const cluster::Replica& replica : group.replicas()) {
      absl::StrAppend(&out, " ", replica.id(), "=", replica.address(),
                      replica.learner() ? " (learner)" : "");
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, DescribeProgress(map), "\n");
  std::map<int, int> by_state;
  for (const cluster::Migration& m : p.migrations()) ++by_state[m.state()];
  for (const auto& [state, count] : by_state) {
    absl::StrAppend(&out, "  ", count, " ",
                    cluster::MigrationState_Name(static_cast<cluster::MigrationState>(state)),
                    "\n");
  }
  return out;
}

}  // namespace penncloud::kvs::shard
