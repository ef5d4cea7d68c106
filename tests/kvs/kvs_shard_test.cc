// Whole-system tests of the sharded KVS: a config group and data groups of real kvs_server
// processes. The replicas learn the cluster map from the config group, serve only the rows
// their group owns, and answer "wrong group" at once for the others (docs/sharding.md);
// the ShardedClient routes by the map, and the history it records is linearizable.
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "kvs/client/group_admin.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/lincheck/history.h"
#include "kvs/shard/config_store.h"
#include "kvs/shard/grpc_group_steps.h"
#include "kvs/shard/node_membership.h"
#include "kvs/shard/rebalancer.h"
#include "kvs/shard/wrong_group.h"
#include "tests/kvs/history_recorder.h"
#include "tests/support/kvs_cluster.h"
#include "tests/support/test_pki.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<kvs::ReplicaGroupClient> GroupClient(KvsGroup& group) {
  std::vector<std::string> addresses;
  for (int i = 0; i < group.size(); ++i) addresses.push_back(group.address(i));
  return std::make_unique<kvs::ReplicaGroupClient>(addresses);
}

struct KvsctlRun {
  int exit = -1;
  std::string out;  // stdout and stderr together
};

// Runs kvsctl with `args` (already shell-safe) and captures what it prints.
KvsctlRun Kvsctl(const std::string& args) {
  KvsctlRun run;
  const std::string tls = absl::StrJoin(WithTestTls(BinaryPath("kvsctl"), {}), " ");
  FILE* pipe = popen(
      (BinaryPath("kvsctl") + " " + tls + " --timeout_ms=10000 " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string GroupArg(KvsCluster& cluster, kvs::shard::GroupId id) {
  std::string arg = absl::StrCat(id, "@");
  KvsGroup& group = cluster.group(id);
  for (int i = 0; i < group.size(); ++i) {
    absl::StrAppend(&arg, i == 0 ? "" : ",", i + 1, "=", group.address(i));
  }
  return arg;
}

KvsClusterOptions TwoGroups() {
  KvsClusterOptions options;
  options.data_groups = 2;
  return options;
}

TEST(KvsShardTest, RowsLiveInTheirGroupAndTheOtherGroupRefusesThem) {
  auto started = KvsCluster::Start(TwoGroups());
  ASSERT_TRUE(started.ok()) << started.status();
  KvsCluster& cluster = **started;
  auto map = cluster.Initialize({1, 2});
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_TRUE(cluster.WaitForMap(1).ok());

  auto client = kvs::Connect(cluster.spec());
  ASSERT_TRUE(client.ok()) << client.status();
  std::map<kvs::shard::GroupId, std::unique_ptr<kvs::ReplicaGroupClient>> direct;
  direct[1] = GroupClient(cluster.group(1));
  direct[2] = GroupClient(cluster.group(2));
  std::map<kvs::shard::GroupId, int> rows_in;
  for (int i = 0; i < 40; ++i) {
    const std::string row = absl::StrCat("user", i, "/inbox");
    ASSERT_TRUE((*client)->Put(row, "c", absl::StrCat("v", i)).ok()) << row;
    const kvs::shard::GroupId owner = map->GroupOfRow(row);
    const kvs::shard::GroupId other = owner == 1 ? 2 : 1;
    ++rows_in[owner];
    EXPECT_EQ(direct[owner]->Get(row, "c").value(), absl::StrCat("v", i));
    // The other group answers wrong group at once (the group client does not retry it),
    // for reads and writes, and the refused write is not applied anywhere.
    const auto asked = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> refused = direct[other]->Get(row, "c");
    EXPECT_EQ(kvs::shard::ParseWrongGroup(refused.status()), 1u) << refused.status();
    absl::Status put = direct[other]->Put(row, "c", "stray");
    EXPECT_EQ(kvs::shard::ParseWrongGroup(put), 1u) << put;
    EXPECT_LT(std::chrono::steady_clock::now() - asked, seconds(2));
    EXPECT_EQ((*client)->Get(row, "c").value(), absl::StrCat("v", i));
  }
  EXPECT_GT(rows_in[1], 5);
  EXPECT_GT(rows_in[2], 5);
}

TEST(KvsShardTest, ConcurrentClientsThroughTheShardedClientAreLinearizable) {
  auto started = KvsCluster::Start(TwoGroups());
  ASSERT_TRUE(started.ok()) << started.status();
  KvsCluster& cluster = **started;
  ASSERT_TRUE(cluster.Initialize({1, 2}).ok());
  ASSERT_TRUE(cluster.WaitForMap(1).ok());
  auto client = kvs::Connect(cluster.spec());
  ASSERT_TRUE(client.ok()) << client.status();
  HistoryRecorder recorder(client->get(), /*threads=*/6, /*keys=*/10, /*spread_rows=*/true);
  recorder.Start();
  ASSERT_TRUE(recorder.WaitForMoreWrites(20, seconds(10))) << "no writes before the crash";
  // A data group's leader crashes: its rows pause, the other group's do not.
  KvsGroup& g1 = cluster.group(1);
  g1.Kill(g1.Leader().value());
  ASSERT_TRUE(g1.Leader(seconds(10)).ok());
  const int64_t before = recorder.acknowledged_writes();
  EXPECT_TRUE(recorder.WaitForMoreWrites(20, seconds(10))) << "no writes after the crash";
  std::vector<lincheck::Operation> history = recorder.Finish();
  EXPECT_GT(recorder.acknowledged_writes(), before);
  EXPECT_GT(recorder.completed_ops(), 100);
  lincheck::CheckResult result = lincheck::CheckKv(history, seconds(30));
  EXPECT_EQ(result.verdict, lincheck::CheckResult::Verdict::kLinearizable)
      << "key " << result.key << ": " << result.explanation;
  std::cerr << "history: " << history.size() << " ops, " << recorder.acknowledged_writes()
            << " acknowledged writes\n";
}

// kvsctl's cluster commands against real groups: init, show, a planned group addition and
// removal that keep every row where it is (and readable) while the map moves on, and clear
// non-zero exits for every error.
TEST(KvsShardTest, KvsctlClusterCommands) {
  auto started = KvsCluster::Start(TwoGroups());
  ASSERT_TRUE(started.ok()) << started.status();
  KvsCluster& cluster = **started;
  const std::string config = "--config=" + cluster.config().spec();

  KvsctlRun show = Kvsctl(config + " cluster show");
  EXPECT_EQ(show.exit, 3) << show.out;
  EXPECT_NE(show.out.find("cluster init"), std::string::npos) << show.out;
  KvsctlRun init = Kvsctl(config + " --virtual_nodes=64 cluster init " + GroupArg(cluster, 1) +
                          " " + GroupArg(cluster, 2));
  ASSERT_EQ(init.exit, 0) << init.out;
  EXPECT_NE(init.out.find("cluster map version 1"), std::string::npos) << init.out;
  KvsctlRun again = Kvsctl(config + " cluster init " + GroupArg(cluster, 1));
  EXPECT_EQ(again.exit, 1) << again.out;
  ASSERT_TRUE(cluster.WaitForMap(1).ok());

  // Data commands go through the sharded client.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Kvsctl(absl::StrCat(config, " put row", i, " c v", i)).exit, 0);
  }
  KvsctlRun get = Kvsctl(config + " get row7 c");
  EXPECT_EQ(get.exit, 0);
  EXPECT_EQ(get.out, "v7\n");
  // Compare-and-delete: only the expected value is deleted (exit 4 otherwise).
  ASSERT_EQ(Kvsctl(config + " put gone c x").exit, 0);
  KvsctlRun miss = Kvsctl(config + " cdelete gone c y");
  EXPECT_EQ(miss.exit, 4) << miss.out;
  EXPECT_EQ(Kvsctl(config + " get gone c").out, "x\n");
  KvsctlRun hit = Kvsctl(config + " cdelete gone c x");
  EXPECT_EQ(hit.exit, 0) << hit.out;
  EXPECT_EQ(Kvsctl(config + " get gone c").exit, 3);
  EXPECT_EQ(Kvsctl(config + " cdelete gone c x").exit, 4);
  EXPECT_EQ(Kvsctl(config + " cdelete gone c").exit, 2);

  ASSERT_TRUE(cluster.StartGroup(3).ok());
  KvsctlRun add = Kvsctl(config + " --no_wait group add " + GroupArg(cluster, 3));
  ASSERT_EQ(add.exit, 0) << add.out;
  EXPECT_NE(add.out.find("cluster map version 2"), std::string::npos) << add.out;
  KvsctlRun second = Kvsctl(config + " group remove 1");  // one change at a time
  EXPECT_EQ(second.exit, 1) << second.out;
  KvsctlRun bad = Kvsctl(config + " group add 4@nonsense");
  EXPECT_EQ(bad.exit, 1) << bad.out;
  KvsctlRun progress = Kvsctl(config + " rebalance progress");
  EXPECT_EQ(progress.exit, 0) << progress.out;
  EXPECT_NE(progress.out.find("ranges"), std::string::npos) << progress.out;
  ASSERT_TRUE(cluster.WaitForMap(2).ok());
  // Planned ranges stay with their current groups: every row is still served.
  for (int i = 0; i < 20; ++i) {
    KvsctlRun row = Kvsctl(absl::StrCat(config, " get row", i, " c"));
    EXPECT_EQ(row.exit, 0) << row.out;
    EXPECT_EQ(row.out, absl::StrCat("v", i, "\n"));
  }
  // The rebalance moves them, and the map ends without migrations.
  KvsctlRun rebalance = Kvsctl(config + " rebalance");
  EXPECT_EQ(rebalance.exit, 0) << rebalance.out;
  EXPECT_NE(rebalance.out.find("no rebalance in progress"), std::string::npos) << rebalance.out;
  for (int i = 0; i < 20; ++i) {
    KvsctlRun row = Kvsctl(absl::StrCat(config, " get row", i, " c"));
    EXPECT_EQ(row.exit, 0) << row.out;
    EXPECT_EQ(row.out, absl::StrCat("v", i, "\n"));
  }
  KvsctlRun usage = Kvsctl("cluster show");
  EXPECT_EQ(usage.exit, 2) << usage.out;
  KvsctlRun unknown = Kvsctl(config + " cluster frobnicate");
  EXPECT_EQ(unknown.exit, 2) << unknown.out;
}

// Clients keep working (and stay linearizable) while a group is added (with a source
// leader killed mid-migration) and then another is removed; every row written before is
// readable at the end, from the group the final map names.
TEST(KvsShardTest, AddAndRemoveAGroupWhileClientsWork) {
  auto started = KvsCluster::Start(TwoGroups());
  ASSERT_TRUE(started.ok()) << started.status();
  KvsCluster& cluster = **started;
  ASSERT_TRUE(cluster.Initialize({1, 2}).ok());
  ASSERT_TRUE(cluster.WaitForMap(1).ok());
  ASSERT_TRUE(cluster.StartGroup(3).ok());
  auto client = kvs::Connect(cluster.spec());
  ASSERT_TRUE(client.ok()) << client.status();
  // Rows written before any move, checked at the end.
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE((*client)->Put(absl::StrCat("before", i), "c", absl::StrCat("v", i)).ok());
  }
  std::vector<std::string> config_addresses;
  for (int i = 0; i < cluster.config().size(); ++i) {
    config_addresses.push_back(cluster.config().address(i));
  }
  kvs::ReplicaGroupClient config(config_addresses);
  kvs::shard::ConfigStore store(config);
  kvs::shard::GrpcGroupSteps steps(store);
  kvs::shard::Rebalancer rebalancer(store, steps);

  HistoryRecorder recorder(client->get(), /*threads=*/6, /*keys=*/12, /*spread_rows=*/true);
  recorder.Start();
  ASSERT_TRUE(recorder.WaitForMoreWrites(10, seconds(10))) << "no writes before the moves";
  auto added = store.Update([&](const kvs::shard::ClusterMap& current) {
    return kvs::shard::PlanAddGroup(current, cluster.Entry(3));
  });
  ASSERT_TRUE(added.ok()) << added.status();
  // In the middle of the migrations, a source group's leader crashes, and later the
  // destination group's leader. Every step is a command in the group's log, so the new
  // leader carries on; a run that fails anyway is resumed from the steps recorded in the map.
  KvsGroup& g2 = cluster.group(2);
  KvsGroup& g3 = cluster.group(3);
  std::atomic<int> killed_mid_run{0};
  std::thread crash([&] {
    kvs::ReplicaGroupClient watcher(config_addresses);
    kvs::shard::ConfigStore watch(watcher);
    for (auto [done, group] : {std::pair<uint64_t, KvsGroup*>{3, &g2}, {6, &g3}}) {
      for (int i = 0; i < 500; ++i) {
        auto map = watch.Read();
        if (map.ok() && map->proto().rebalance_ranges_done() >= done) {
          killed_mid_run +=
              map->proto().rebalance_ranges_done() < map->proto().rebalance_ranges_total();
          break;
        }
        std::this_thread::sleep_for(milliseconds(10));
      }
      group->Kill(group->Leader().value());
    }
  });
  absl::Status run = rebalancer.Run();
  crash.join();
  EXPECT_EQ(killed_mid_run, 2);
  for (int attempt = 0; !run.ok() && attempt < 3; ++attempt) {
    std::cerr << "rebalance resumed after: " << run << "\n";
    run = rebalancer.Run();
  }
  ASSERT_TRUE(run.ok()) << run;
  for (KvsGroup* g : {&g2, &g3}) {
    for (int i = 0; i < g->size(); ++i) {
      if (!g->running(i)) {
        ASSERT_TRUE(g->Restart(i).ok());
      }
    }
    ASSERT_TRUE(g->Leader().ok());
  }
  ASSERT_TRUE(recorder.WaitForMoreWrites(10, seconds(15))) << "no writes after the restarts";

  // Group 2's leader is replaced by a new replica (4): it joins, catches up, becomes a
  // voter, then the old leader is removed (it steps down) and the map follows.
  auto g2_leader = g2.Leader();
  ASSERT_TRUE(g2_leader.ok());
  const uint64_t replaced = *g2_leader + 1;
  auto joined = g2.StartJoining();
  ASSERT_TRUE(joined.ok()) << joined.status();
  kvs::shard::GroupTarget g2_target;
  g2_target.config = absl::StrJoin(config_addresses, ",");
  g2_target.group = 2;
  kvs::shard::NodeChangeOptions node_options;
  node_options.timeout = seconds(30);
  absl::Status replace = kvs::shard::ReplaceReplica(
      g2_target, replaced, {.id = 4, .address = g2.address(*joined), .peer_address = ""},
      node_options);
  ASSERT_TRUE(replace.ok()) << replace;
  g2.Kill(*g2_leader);
  // The new replica leads for the rest of the test (crash-restart whoever else leads), so
  // the removal below must reach a leader the original map never named.
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto now_leading = g2.Leader();
    ASSERT_TRUE(now_leading.ok()) << now_leading.status();
    if (*now_leading == *joined) break;
    ASSERT_TRUE(g2.Restart(*now_leading).ok());
  }
  EXPECT_EQ(g2.Leader().value_or(-1), *joined);
  ASSERT_TRUE(recorder.WaitForMoreWrites(10, seconds(15))) << "no writes after the new leader";
  auto removed = store.Update([&](const kvs::shard::ClusterMap& current) {
    return kvs::shard::PlanRemoveGroup(current, 1);
  });
  ASSERT_TRUE(removed.ok()) << removed.status();
  absl::Status second = rebalancer.Run();
  for (int attempt = 0; !second.ok() && attempt < 3; ++attempt) {
    std::cerr << "rebalance resumed after: " << second << "\n";
    second = rebalancer.Run();
  }
  ASSERT_TRUE(second.ok()) << second;
  // Clients keep working after all of it. A write that was waiting on group 2 when its new
  // replica took over fails after the group client's 10 s deadline (outcome unknown) and
  // makes the sharded client re-read the map; later calls reach the new leader.
  const int64_t before = recorder.acknowledged_writes();
  for (int i = 0; i < 150 && recorder.acknowledged_writes() < before + 20; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  std::vector<lincheck::Operation> history = recorder.FinishWithFinalReads();
  EXPECT_TRUE(recorder.final_reads_ok());
  EXPECT_GT(recorder.acknowledged_writes(), before);
  lincheck::CheckResult result = lincheck::CheckKv(history, seconds(30));
  EXPECT_EQ(result.verdict, lincheck::CheckResult::Verdict::kLinearizable)
      << "key " << result.key << ": " << result.explanation;
  std::cerr << "history: " << history.size() << " ops, " << recorder.acknowledged_writes()
            << " acknowledged writes, " << recorder.failed_ops() << " unknown\n";

  auto final_map = store.Read();
  ASSERT_TRUE(final_map.ok());
  // Every replica, the restarted one included, ends on the final map.
  ASSERT_TRUE(cluster.WaitForMap(final_map->version()).ok());
  EXPECT_EQ(final_map->proto().migrations_size(), 0);
  EXPECT_EQ(final_map->FindGroup(1), nullptr);  // tidied away
  // The replaced replica is gone from the map and from its group's membership; its
  // replacement is a voter in both.
  std::set<uint64_t> in_map;
  for (const cluster::Replica& r : final_map->FindGroup(2)->replicas()) {
    in_map.insert(r.id());
    EXPECT_FALSE(r.learner()) << r.id();
    if (r.id() == 4) {
      EXPECT_EQ(r.address(), g2.address(*joined));
    }
  }
  std::set<uint64_t> expected_members = {1, 2, 3, 4};
  expected_members.erase(replaced);
  EXPECT_EQ(in_map, expected_members);
  std::vector<std::string> g2_addresses;
  for (int i = 0; i < g2.size(); ++i) g2_addresses.push_back(g2.address(i));
  auto g2_status = kvs::GroupAdmin(g2_addresses).LeaderStatus();
  ASSERT_TRUE(g2_status.ok()) << g2_status.status();
  std::set<uint64_t> members;
  for (const kvs::pb::Member& m : g2_status->members()) {
    members.insert(m.id());
    EXPECT_FALSE(m.learner()) << m.id();
  }
  EXPECT_EQ(members, expected_members);
  std::map<kvs::shard::GroupId, std::unique_ptr<kvs::ReplicaGroupClient>> direct;
  direct[2] = GroupClient(cluster.group(2));
  direct[3] = GroupClient(cluster.group(3));
  int moved_to_3 = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string row = absl::StrCat("before", i);
    EXPECT_EQ((*client)->Get(row, "c").value_or("?"), absl::StrCat("v", i)) << row;
    const kvs::shard::GroupId owner = final_map->GroupOfRow(row);
    EXPECT_EQ(direct[owner]->Get(row, "c").value_or("?"), absl::StrCat("v", i)) << row;
    moved_to_3 += owner == 3;
  }
  EXPECT_GT(moved_to_3, 5);
  // The removed group serves nothing any more.
  auto old = GroupClient(cluster.group(1));
  EXPECT_TRUE(kvs::shard::ParseWrongGroup(old->Get("before0", "c").status()).has_value());
}

}  // namespace
}  // namespace penncloud::testing
