#include "kvs/shard/cluster_status.h"

#include <memory>

#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "kvs/shard/map_testing.h"

namespace penncloud::kvs::shard {
namespace {

using testing::MakeGroup;
using testing::MakeMap;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

double ShareOf(const cluster::Migration& m) {
  return static_cast<double>(RingRange{m.range().start(), m.range().end()}.Size()) /
         18446744073709551616.0;
}

// A rebalance adding group 4 with its first `done` ranges finished, 1 MiB each, started
// 20 s before kNow, and the next two in flight.
ClusterMap Midway(int done) {
  ClusterMap map = *ClusterMap::FromProto(MakeMap(1, {1, 2, 3}, 24));
  map = *ClusterMap::FromProto(*PlanAddGroup(map, MakeGroup(4)));
  const std::vector<cluster::Migration> planned(map.proto().migrations().begin(),
                                                map.proto().migrations().end());
  for (int i = 0; i < done + 2; ++i) {
    const auto state = i < done ? cluster::MIGRATION_DONE : cluster::MIGRATION_FROZEN;
    map = *ClusterMap::FromProto(*AdvanceMigration(map, planned[i].id(), state, 10, 1 << 20));
  }
  cluster::ClusterMap p = map.proto();
  p.set_rebalance_started_unix_ms(absl::ToUnixMillis(kNow - absl::Seconds(20)));
  return *ClusterMap::FromProto(p);
}

TEST(ClusterStatusTest, EstimateScalesWhatIsDoneByTheRingShareLeft) {
  const ClusterMap map = Midway(6);
  const RebalanceEstimate e = EstimateRebalance(map, kNow);
  ASSERT_TRUE(e.in_progress);
  EXPECT_EQ(e.ranges_done, 6u);
  EXPECT_EQ(e.ranges_total, static_cast<uint64_t>(map.proto().migrations_size()));
  EXPECT_EQ(e.ranges_in_flight, 2u);
  EXPECT_EQ(e.bytes_done, 6u << 20);
  double moving = 0;
  double done = 0;
  for (const cluster::Migration& m : map.proto().migrations()) {
    moving += ShareOf(m);
    if (m.state() == cluster::MIGRATION_DONE) done += ShareOf(m);
  }
  EXPECT_NEAR(e.ring_share_moving, moving, 1e-9);
  // Adding a 4th group moves about a quarter of the ring.
  EXPECT_GT(e.ring_share_moving, 0.15);
  EXPECT_LT(e.ring_share_moving, 0.35);
  EXPECT_NEAR(static_cast<double>(e.bytes_total_estimate), (6 << 20) * moving / done, 2.0);
  ASSERT_TRUE(e.time_left.has_value());
  EXPECT_NEAR(absl::ToDoubleSeconds(*e.time_left), 20 * (moving - done) / done, 0.01);
  EXPECT_EQ(e.elapsed, absl::Seconds(20));
  const std::string text = DescribeRebalance(e);
  EXPECT_NE(text.find("6/"), std::string::npos) << text;
  EXPECT_NE(text.find("(2 in flight)"), std::string::npos) << text;
  EXPECT_NE(text.find("left"), std::string::npos) << text;
}

TEST(ClusterStatusTest, NoEstimateBeforeTheFirstRangeIsDone) {
  const RebalanceEstimate e = EstimateRebalance(Midway(0), kNow);
  EXPECT_TRUE(e.in_progress);
  EXPECT_EQ(e.bytes_total_estimate, 0u);
  EXPECT_FALSE(e.time_left.has_value());
  EXPECT_NE(DescribeRebalance(e).find("unknown"), std::string::npos);
  const ClusterMap idle = *ClusterMap::FromProto(MakeMap(1, {1, 2, 3}, 24));
  EXPECT_FALSE(EstimateRebalance(idle, kNow).in_progress);
  EXPECT_EQ(DescribeRebalance(EstimateRebalance(idle, kNow)), "no rebalance in progress");
}

TEST(ClusterStatusTest, StatusMergesTheMapTheLeaseAndEveryReplica) {
  MemoryClient config;
  ConfigStore store(config);
  EXPECT_TRUE(absl::IsNotFound(
      ReadClusterStatus(
          store, config, [](const cluster::Group&) { return std::vector<ReplicaStatus>{}; }, kNow)
          .status()));
  const ClusterMap map = Midway(3);
  // A map some versions into a rebalance, as the rebalancer leaves it in the config group.
  ASSERT_TRUE(config.Put(kMapRow, kMapColumn, map.bytes()).ok());
  RebalancerLease lease(config, "kvsctl@test", absl::Seconds(30));
  ASSERT_TRUE(lease.Acquire(absl::Now()).ok());
  int probed = 0;
  auto probe = [&](const cluster::Group& group) {
    ++probed;
    std::vector<ReplicaStatus> out;
    for (const cluster::Replica& r : group.replicas()) {
      pb::StatusResponse s;
      s.set_role(r.id() == group.id() % 3 + 1 ? "leader" : "follower");
      s.set_map_version(map.version());
      s.set_applied_slot(100 + r.id());
      if (group.id() == 2 && r.id() == 3) {
        out.push_back({r.id(), r.address(), absl::UnavailableError("connection refused")});
      } else {
        out.push_back({r.id(), r.address(), s});
      }
    }
    return out;
  };
  absl::StatusOr<ClusterStatus> status = ReadClusterStatus(store, config, probe, absl::Now());
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(probed, 4);
  ASSERT_EQ(status->groups.size(), 4u);
  EXPECT_EQ(status->groups[0].leader, status->groups[0].group->replicas(1).address());
  ASSERT_TRUE(status->rebalancer.has_value());
  EXPECT_EQ(status->rebalancer->owner, lease.owner());
  EXPECT_EQ(status->rebalance.ranges_done, 3u);
  const std::string text = DescribeClusterStatus(*status);
  EXPECT_NE(text.find("unreachable: connection refused"), std::string::npos) << text;
  EXPECT_NE(text.find("rebalancer lease: kvsctl@test#"), std::string::npos) << text;
  EXPECT_NE(text.find("group 4 serving"), std::string::npos) << text;
  lease.Release();
  EXPECT_FALSE(ReadClusterStatus(store, config, probe, absl::Now())->rebalancer.has_value());
}

}  // namespace
}  // namespace penncloud::kvs::shard
