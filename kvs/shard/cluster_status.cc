#include "kvs/shard/cluster_status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "kvs/client/replica_group_client.h"

namespace penncloud::kvs::shard {
namespace {

double Share(const cluster::RingRange& r) {
  const RingRange range{r.start(), r.end()};
  return static_cast<double>(range.Size()) / 18446744073709551616.0;
}

std::string MiB(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

RebalanceEstimate EstimateRebalance(const ClusterMap& map, absl::Time now) {
  const cluster::ClusterMap& p = map.proto();
  RebalanceEstimate e;
  e.in_progress = !p.migrations().empty();
  if (!e.in_progress) return e;
  e.ranges_total = p.rebalance_ranges_total();
  e.ranges_done = p.rebalance_ranges_done();
  e.bytes_done = p.rebalance_bytes_done();
  e.started_unix_ms = p.rebalance_started_unix_ms();
  // DONE migrations stay in the map until the rebalance is tidied, so the map holds the
  // whole rebalance: its ring share is what moves, in total and so far.
  for (const cluster::Migration& m : p.migrations()) {
    const double share = Share(m.range());
    e.ring_share_moving += share;
    if (m.state() == cluster::MIGRATION_DONE) {
      e.ring_share_done += share;
    } else if (m.state() != cluster::MIGRATION_PLANNED) {
      ++e.ranges_in_flight;
    }
  }
  if (e.started_unix_ms > 0) e.elapsed = now - absl::FromUnixMillis(e.started_unix_ms);
  if (e.ring_share_done > 0) {
    const double scale = e.ring_share_moving / e.ring_share_done;
    e.bytes_total_estimate = static_cast<uint64_t>(static_cast<double>(e.bytes_done) * scale);
    if (e.started_unix_ms > 0) {
      e.time_left = e.elapsed * ((e.ring_share_moving - e.ring_share_done) / e.ring_share_done);
    }
  }
  return e;
}

GroupProber GrpcGroupProber(absl::Duration timeout) {
  return [timeout](const cluster::Group& group) {
    std::vector<std::string> addresses;
    for (const cluster::Replica& r : group.replicas()) addresses.push_back(r.address());
    ReplicaGroupOptions options;
    options.attempt_timeout = absl::ToChronoMilliseconds(timeout);
    options.deadline = absl::ToChronoMilliseconds(timeout);
    ReplicaGroupClient client(addresses, options);
    std::vector<ReplicaStatus> out;
    auto answers = client.StatusAll();
    for (int i = 0; i < group.replicas_size() && i < static_cast<int>(answers.size()); ++i) {
      out.push_back(
          ReplicaStatus{group.replicas(i).id(), answers[i].first, std::move(answers[i].second)});
    }
    return out;
  };
}

absl::StatusOr<ClusterStatus> ReadClusterStatus(ConfigStore& store, Client& config_group,
                                                const GroupProber& probe, absl::Time now) {
  absl::StatusOr<ClusterMap> map = store.Read();
  if (!map.ok()) return map.status();
  ClusterStatus status{*std::move(map), {}, {}, std::nullopt};
  status.rebalance = EstimateRebalance(status.map, now);
  absl::StatusOr<std::optional<LeaseHolder>> lease = ReadLease(config_group);
  if (lease.ok() && lease->has_value() && (*lease)->expiry > now) status.rebalancer = **lease;
  for (const cluster::Group& group : status.map.proto().groups()) {
    GroupStatus g;
    g.group = &group;
    g.replicas = probe(group);
    for (const ReplicaStatus& r : g.replicas) {
      if (r.status.ok() && r.status->role() == "leader") g.leader = r.address;
    }
    status.groups.push_back(std::move(g));
  }
  return status;
}

absl::StatusOr<ClusterStatus> ReadClusterStatus(const std::string& config_addresses,
                                                absl::Duration timeout) {
  std::vector<std::string> addresses =
      absl::StrSplit(config_addresses, ',', absl::SkipWhitespace());
  if (addresses.empty()) return absl::InvalidArgumentError("no config group addresses");
  ReplicaGroupOptions options;
  options.deadline = absl::ToChronoMilliseconds(timeout * 3);
  ReplicaGroupClient config(addresses, options);
  ConfigStore store(config);
  return ReadClusterStatus(store, config, GrpcGroupProber(timeout), absl::Now());
}

std::string DescribeRebalance(const RebalanceEstimate& e) {
  if (!e.in_progress) return "no rebalance in progress";
  std::string out = absl::StrFormat("rebalance: %d/%d ranges done", e.ranges_done, e.ranges_total);
  if (e.ranges_in_flight > 0) absl::StrAppend(&out, " (", e.ranges_in_flight, " in flight)");
  absl::StrAppend(&out, ", ", MiB(e.bytes_done));
  if (e.bytes_total_estimate > 0) absl::StrAppend(&out, " of ~", MiB(e.bytes_total_estimate));
  absl::StrAppend(&out, " moved");
  if (e.time_left) {
    absl::StrAppend(&out, ", ~", absl::FormatDuration(absl::Trunc(*e.time_left, absl::Seconds(1))),
                    " left");
  } else {
    absl::StrAppend(&out, ", time left unknown until a range is done");
  }
  if (e.started_unix_ms > 0) {
    absl::StrAppend(&out, " (running ",
                    absl::FormatDuration(absl::Trunc(e.elapsed, absl::Seconds(1))), ")");
  }
  return out;
}

std::string DescribeClusterStatus(const ClusterStatus& status) {
  std::string out = absl::StrCat("cluster map version ", status.map.version(), "\n");
  for (const GroupStatus& g : status.groups) {
    absl::StrAppend(&out, "group ", g.group->id(),
                    g.group->state() == cluster::GROUP_SERVING ? " serving" : " leaving",
                    ", leader ", g.leader.empty() ? "none" : g.leader, "\n");
    for (const ReplicaStatus& r : g.replicas) {
      if (r.status.ok()) {
        absl::StrAppendFormat(&out, "  %d %s %s applied=%d commit=%d map=%d\n", r.id, r.address,
                              r.status->role(), r.status->applied_slot(), r.status->commit_slot(),
                              r.status->map_version());
      } else {
        absl::StrAppend(&out, "  ", r.id, " ", r.address,
                        " unreachable: ", r.status.status().message(), "\n");
      }
    }
  }
  if (status.rebalancer) {
    absl::StrAppend(&out, "rebalancer lease: ", status.rebalancer->owner, "\n");
  }
  absl::StrAppend(&out, DescribeRebalance(status.rebalance), "\n");
  return out;
}

}  // namespace penncloud::kvs::shard
