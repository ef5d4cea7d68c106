#include "kvs/shard/config_store.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "kvs/shard/map_testing.h"

namespace penncloud::kvs::shard {
namespace {

using testing::MakeGroup;
using testing::MakeMap;

TEST(ConfigStoreTest, ReadBeforeInitializeIsNotFound) {
  MemoryClient config;
  ConfigStore store(config);
  EXPECT_TRUE(absl::IsNotFound(store.Read().status()));
}

TEST(ConfigStoreTest, InitializeThenReadTheSameMap) {
  MemoryClient config;
  ConfigStore store(config);
  absl::StatusOr<ClusterMap> first = store.Initialize(MakeMap(1, {1, 2, 3}));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<ClusterMap> read = store.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->version(), 1u);
  EXPECT_EQ(read->bytes(), first->bytes());
  // The map sits in the one agreed cell.
  EXPECT_EQ(*config.Get("cluster", "map"), first->bytes());
  // Initializing again with another map fails; repeating our own (a retry) is fine.
  EXPECT_TRUE(absl::IsAlreadyExists(store.Initialize(MakeMap(1, {1, 2})).status()));
  EXPECT_TRUE(store.Initialize(MakeMap(1, {1, 2, 3})).ok());
}

TEST(ConfigStoreTest, InitializeRefusesBadMaps) {
  MemoryClient config;
  ConfigStore store(config);
  EXPECT_TRUE(absl::IsInvalidArgument(store.Initialize(MakeMap(2, {1})).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store.Initialize(MakeMap(1, {})).status()));
  EXPECT_EQ(config.CellCount(), 0u);
}

TEST(ConfigStoreTest, ProposeMovesFromVersionToVersionPlusOne) {
  MemoryClient config;
  ConfigStore store(config);
  ClusterMap v1 = *store.Initialize(MakeMap(1, {1, 2, 3}));
  EXPECT_TRUE(absl::IsInvalidArgument(store.Propose(v1, MakeMap(3, {1, 2, 3, 4})).status()));
  absl::StatusOr<ClusterMap> v2 = store.Propose(v1, *PlanAddGroup(v1, MakeGroup(4)));
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(store.Read()->version(), 2u);
  // A changer still holding v1 loses and is told the current version.
  absl::StatusOr<ClusterMap> stale = store.Propose(v1, MakeMap(2, {1, 2}));
  EXPECT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  EXPECT_EQ(store.Read()->bytes(), v2->bytes());
}

TEST(ConfigStoreTest, ConcurrentChangersNeverBothWin) {
  MemoryClient config;
  ConfigStore store(config);
  ClusterMap v1 = *store.Initialize(MakeMap(1, {1, 2, 3}));
  std::atomic<int> wins = 0;
  std::vector<std::thread> changers;
  for (GroupId id = 4; id < 12; ++id) {
    changers.emplace_back([&, id] {
      ConfigStore mine(config);
      if (mine.Propose(v1, *PlanAddGroup(v1, MakeGroup(id))).ok()) ++wins;
    });
  }
  for (std::thread& t : changers) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(store.Read()->version(), 2u);
  EXPECT_EQ(store.Read()->proto().groups_size(), 4);
}

TEST(ConfigStoreTest, UpdateReplansAfterLosingARace) {
  MemoryClient config;
  ConfigStore store(config);
  ASSERT_TRUE(store.Initialize(MakeMap(1, {1, 2})).ok());
  int calls = 0;
  absl::StatusOr<ClusterMap> updated = store.Update([&](const ClusterMap& current) {
    if (++calls == 1) {
      // Someone else changes the map between our read and our write.
      ConfigStore other(config);
      EXPECT_TRUE(other.Propose(current, *PlanAddGroup(current, MakeGroup(3))).ok());
    }
    cluster::ClusterMap next = current.proto();
    cluster::Replica* joining = next.mutable_groups(0)->add_replicas();
    joining->set_id(9);
    joining->set_address("127.0.0.1:9999");
    joining->set_learner(true);
    return absl::StatusOr<cluster::ClusterMap>(next);
  });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(updated->version(), 3u);
  EXPECT_EQ(updated->proto().groups(0).replicas_size(), 4);
  EXPECT_EQ(updated->proto().groups_size(), 3);
}

TEST(ConfigStoreTest, UnavailableConfigGroupIsReported) {
  MemoryClient config;
  ConfigStore store(config);
  ClusterMap v1 = *store.Initialize(MakeMap(1, {1}));
  config.SetUnavailable(true);
  EXPECT_TRUE(absl::IsUnavailable(store.Read().status()));
  EXPECT_TRUE(absl::IsUnavailable(store.Propose(v1, MakeMap(2, {1, 2})).status()));
}

}  // namespace
}  // namespace penncloud::kvs::shard
