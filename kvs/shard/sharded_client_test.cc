#include "kvs/shard/sharded_client.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "kvs/shard/map_testing.h"
#include "kvs/shard/wrong_group.h"

namespace penncloud::kvs::shard {
namespace {

using ::testing::HasSubstr;
using testing::MakeGroup;
using testing::MakeMap;

std::string Row(int i) { return absl::StrCat("user", i); }

// Stands in for the replica groups: each group's cells live in a MemoryClient, and a group
// refuses rows it does not serve under the map the groups have applied (`replica_map`), the
// way a replica will. Every operation holds `mu` across its check and its effect, so a
// rebalance done under `mu` is atomic with respect to clients.
struct FakeCluster {
  std::mutex mu;
  std::shared_ptr<const ClusterMap> replica_map;
  std::map<GroupId, std::shared_ptr<MemoryClient>> stores;
  std::atomic<int> clients_made = 0;
  std::atomic<int> wrong_group_answers = 0;
  std::atomic<int> started_gets = 0;

  void AddGroup(GroupId id) { stores[id] = std::make_shared<MemoryClient>(); }

  // Moves row `row`'s cells to the group that serves it under `next` (REQUIRES: mu held).
  void MoveRow(const std::string& row, const ClusterMap& next) {
    const GroupId from = replica_map->GroupOfRow(row);
    const GroupId to = next.GroupOfRow(row);
    if (from == to) return;
    ListOptions all;
    all.limit = 1000;
    all.with_values = true;
    ColumnPage page = *stores[from]->List(row, all);
    for (const Cell& cell : page.cells) {
      ASSERT_TRUE(stores[to]->Put(row, cell.column, cell.value).ok());
      ASSERT_TRUE(stores[from]->Delete(row, cell.column).ok());
    }
  }
};

class FakeGroup final : public Client {
 public:
  FakeGroup(FakeCluster& cluster, GroupId id) : cluster_(cluster), id_(id) {}

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    std::lock_guard lock(cluster_.mu);
    if (auto s = Check(row); !s.ok()) return s;
    return Store().Get(row, column);
  }
  void StartGet(std::string_view row, std::string_view column,
                std::function<void(StartedGet)> done) override {
    ++cluster_.started_gets;
    done(Get(row, column));
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    std::lock_guard lock(cluster_.mu);
    if (auto s = Check(row); !s.ok()) return s;
    return Store().Put(row, column, value);
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    std::lock_guard lock(cluster_.mu);
    if (auto s = Check(row); !s.ok()) return s;
    return Store().CPut(row, column, expected, value);
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    std::lock_guard lock(cluster_.mu);
    if (auto s = Check(row); !s.ok()) return s;
    return Store().Delete(row, column);
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    std::lock_guard lock(cluster_.mu);
    if (auto s = Check(row); !s.ok()) return s;
    return Store().CDelete(row, column, expected);
  }
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override {
    std::lock_guard lock(cluster_.mu);
    if (auto s = Check(row); !s.ok()) return s;
    return Store().List(row, options);
  }

 private:
  absl::Status Check(std::string_view row) {
    if (cluster_.replica_map->GroupOfRow(row) == id_) return absl::OkStatus();
    ++cluster_.wrong_group_answers;
    return WrongGroupError(cluster_.replica_map->version(), absl::StrCat("group ", id_));
  }
  MemoryClient& Store() { return *cluster_.stores.at(id_); }

  FakeCluster& cluster_;
  const GroupId id_;
};

class ShardedClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (GroupId id : {1, 2, 3, 4}) cluster_.AddGroup(id);
    v1_ = std::make_shared<const ClusterMap>(*store_.Initialize(MakeMap(1, {1, 2, 3})));
    cluster_.replica_map = v1_;
  }

  std::unique_ptr<ShardedClient> NewClient(ShardedClientOptions options = {}) {
    return std::make_unique<ShardedClient>(
        config_,
        [this](const cluster::Group& group) -> absl::StatusOr<std::unique_ptr<Client>> {
          ++cluster_.clients_made;
          return std::make_unique<FakeGroup>(cluster_, group.id());
        },
        options);
  }

  // Adds group 4 to the stored map and finishes every migration at once.
  std::shared_ptr<const ClusterMap> AddGroup4() {
    ClusterMap map = *ClusterMap::FromProto(*PlanAddGroup(*store_.Read(), MakeGroup(4)));
    const std::vector<cluster::Migration> migrations(map.proto().migrations().begin(),
                                                     map.proto().migrations().end());
    for (const cluster::Migration& m : migrations) {
      map = *ClusterMap::FromProto(*AdvanceMigration(map, m.id(), cluster::MIGRATION_DONE, 0, 0));
    }
    ClusterMap tidy = *ClusterMap::FromProto(*Tidy(map));
    absl::StatusOr<cluster::ClusterMap> next = tidy.proto();
    return std::make_shared<const ClusterMap>(
        *store_.Update([&](const ClusterMap&) { return next; }));
  }

  // The groups switch to `next`, moving the cells of rows 0..rows-1, atomically.
  void Rebalance(const std::shared_ptr<const ClusterMap>& next, int rows) {
    std::lock_guard lock(cluster_.mu);
    for (int i = 0; i < rows; ++i) cluster_.MoveRow(Row(i), *next);
    cluster_.replica_map = next;
  }

  FakeCluster cluster_;
  std::shared_ptr<MemoryClient> config_ = std::make_shared<MemoryClient>();
  ConfigStore store_{*config_};
  std::shared_ptr<const ClusterMap> v1_;
};

TEST_F(ShardedClientTest, RoutesEachRowToTheGroupThatOwnsIt) {
  auto client = NewClient();
  EXPECT_EQ(client->map_version(), 0u);  // nothing contacted before the first call
  std::map<GroupId, size_t> expected;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(client->Put(Row(i), "c", absl::StrCat("v", i)).ok());
    ++expected[v1_->GroupOfRow(Row(i))];
  }
  EXPECT_EQ(client->map_version(), 1u);
  for (GroupId id : {1, 2, 3}) EXPECT_EQ(cluster_.stores[id]->CellCount(), expected[id]);
  EXPECT_EQ(cluster_.stores[4]->CellCount(), 0u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(*client->Get(Row(i), "c"), absl::StrCat("v", i));
  EXPECT_EQ(cluster_.clients_made.load(), 3);  // one client per group, reused
  EXPECT_EQ(cluster_.wrong_group_answers.load(), 0);

  EXPECT_TRUE(*client->CPut(Row(1), "c", "v1", "w1"));
  EXPECT_FALSE(*client->CPut(Row(1), "c", "v1", "x1"));
  ASSERT_TRUE(client->Put(Row(1), "d", "more").ok());
  ColumnPage page = *client->List(Row(1), {});
  ASSERT_EQ(page.cells.size(), 2u);
  EXPECT_EQ(page.cells[0].column, "c");
  ASSERT_TRUE(client->Delete(Row(1), "c").ok());
  EXPECT_TRUE(absl::IsNotFound(client->Get(Row(1), "c").status()));
}

// StartGet never blocks: it goes to a group only with a fresh map and that group's client
// already made, and leaves a wrong-group answer to Get, which follows the new map.
TEST_F(ShardedClientTest, StartGetServesFromTheCachedRouteAndLeavesTheRestToGet) {
  auto client = NewClient();
  auto started = [&](int i) {
    StartedGet got;
    client->StartGet(Row(i), "c", [&](StartedGet answer) { got = std::move(answer); });
    return got;
  };
  EXPECT_FALSE(started(0).has_value());  // no map yet
  EXPECT_EQ(client->map_version(), 0u);
  EXPECT_EQ(cluster_.started_gets.load(), 0);

  for (int i = 0; i < 200; ++i) ASSERT_TRUE(client->Put(Row(i), "c", absl::StrCat("v", i)).ok());
  for (int i = 0; i < 200; ++i) {
    StartedGet got = started(i);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(**got, absl::StrCat("v", i));
  }
  StartedGet absent = started(1000);  // a group with a client, a cell that is not there
  ASSERT_TRUE(absent.has_value());
  EXPECT_TRUE(absl::IsNotFound(absent->status()));

  std::shared_ptr<const ClusterMap> v2 = AddGroup4();
  Rebalance(v2, 200);
  std::vector<int> moved;
  for (int i = 0; i < 200; ++i) {
    if (v1_->GroupOfRow(Row(i)) != v2->GroupOfRow(Row(i))) moved.push_back(i);
  }
  ASSERT_FALSE(moved.empty());
  for (int i : moved) EXPECT_FALSE(started(i).has_value());  // wrong group: declined
  for (int i : moved) EXPECT_EQ(*client->Get(Row(i), "c"), absl::StrCat("v", i));
  for (int i : moved) {  // Get brought the new map and the new group's client
    StartedGet got = started(i);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(**got, absl::StrCat("v", i));
  }
}

TEST_F(ShardedClientTest, FollowsTheNewMapAfterAGroupIsAdded) {
  constexpr int kRows = 3000;
  auto client = NewClient();
  for (int i = 0; i < kRows; ++i) ASSERT_TRUE(client->Put(Row(i), "c", absl::StrCat(i)).ok());
  std::shared_ptr<const ClusterMap> v2 = AddGroup4();
  Rebalance(v2, kRows);
  ASSERT_GT(cluster_.stores[4]->CellCount(), 0u);

  // The client still holds version 1; the old owners' answers send it to the new map.
  for (int i = 0; i < kRows; ++i) {
    absl::StatusOr<std::string> value = client->Get(Row(i), "c");
    ASSERT_TRUE(value.ok()) << Row(i) << ": " << value.status();
    EXPECT_EQ(*value, absl::StrCat(i));
  }
  EXPECT_EQ(client->map_version(), v2->version());
  EXPECT_GT(cluster_.wrong_group_answers.load(), 0);
  EXPECT_EQ(cluster_.clients_made.load(), 4);

  // New writes land on the new owners.
  for (int i = 0; i < kRows; ++i) ASSERT_TRUE(client->Put(Row(i), "c", "new").ok());
  size_t on_4 = 0;
  for (int i = 0; i < kRows; ++i) on_4 += v2->GroupOfRow(Row(i)) == 4;
  EXPECT_EQ(cluster_.stores[4]->CellCount(), on_4);
}

TEST_F(ShardedClientTest, WaitsForAGroupThatHasNotLearnedTheMapYet) {
  std::shared_ptr<const ClusterMap> v2 = AddGroup4();
  int moved = 0;
  while (v2->GroupOfRow(Row(moved)) != 4) ++moved;
  auto client = NewClient();  // reads v2 at once; the groups still enforce v1
  std::thread catch_up([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    Rebalance(v2, 0);
  });
  absl::Status put = client->Put(Row(moved), "c", "x");
  catch_up.join();
  ASSERT_TRUE(put.ok()) << put;
  EXPECT_EQ(*cluster_.stores[4]->Get(Row(moved), "c"), "x");
  EXPECT_GT(cluster_.wrong_group_answers.load(), 0);
}

TEST_F(ShardedClientTest, GivesUpAfterABoundedNumberOfAttempts) {
  std::shared_ptr<const ClusterMap> v2 = AddGroup4();
  int moved = 0;
  while (v2->GroupOfRow(Row(moved)) != 4) ++moved;
  ShardedClientOptions options;
  options.max_attempts = 4;
  options.retry_backoff = std::chrono::milliseconds(1);
  auto client = NewClient(options);
  absl::Status put = client->Put(Row(moved), "c", "x");  // group 4 never learns v2
  EXPECT_TRUE(absl::IsUnavailable(put)) << put;
  EXPECT_THAT(std::string(put.message()), HasSubstr("wrong group"));
  EXPECT_EQ(cluster_.wrong_group_answers.load(), 4);
}

TEST_F(ShardedClientTest, SourceServesRangesUntilTheirMigrationSwitches) {
  ClusterMap planned =
      *store_.Update([](const ClusterMap& current) { return PlanAddGroup(current, MakeGroup(4)); });
  cluster_.replica_map = std::make_shared<const ClusterMap>(planned);
  auto client = NewClient();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(client->Put(Row(i), "c", "v").ok());
  EXPECT_EQ(cluster_.stores[4]->CellCount(), 0u);
  EXPECT_EQ(cluster_.wrong_group_answers.load(), 0);
}

TEST_F(ShardedClientTest, ConfigGroupOutage) {
  auto client = NewClient();
  config_->SetUnavailable(true);
  EXPECT_TRUE(absl::IsUnavailable(client->Put(Row(0), "c", "v")));
  config_->SetUnavailable(false);
  ASSERT_TRUE(client->Put(Row(0), "c", "v").ok());
  // With a map cached, an outage of the config group does not stop routing.
  config_->SetUnavailable(true);
  EXPECT_EQ(*client->Get(Row(0), "c"), "v");
}

TEST_F(ShardedClientTest, FactoryErrorsReachTheCaller) {
  ShardedClient client(config_,
                       [](const cluster::Group&) -> absl::StatusOr<std::unique_ptr<Client>> {
                         return absl::InvalidArgumentError("bad spec");
                       });
  EXPECT_TRUE(absl::IsInvalidArgument(client.Put(Row(0), "c", "v")));
}

TEST_F(ShardedClientTest, ConcurrentWritersAcrossARebalanceLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kRowsPerThread = 250;
  constexpr int kRows = kThreads * kRowsPerThread;
  ShardedClientOptions options;
  options.retry_backoff = std::chrono::milliseconds(1);
  auto client = NewClient(options);
  std::atomic<bool> stop = false;
  std::vector<std::map<int, int>> last(kThreads);  // row -> last acknowledged value
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int round = 0; !stop.load() || round < 3; ++round) {
        for (int k = 0; k < kRowsPerThread; ++k) {
          const int row = t * kRowsPerThread + k;
          absl::Status put = client->Put(Row(row), "c", absl::StrCat(round));
          ASSERT_TRUE(put.ok()) << put;
          last[t][row] = round;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Rebalance(AddGroup4(), kRows);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (std::thread& w : writers) w.join();
  for (int t = 0; t < kThreads; ++t) {
    for (const auto& [row, round] : last[t]) {
      EXPECT_EQ(*client->Get(Row(row), "c"), absl::StrCat(round)) << Row(row);
    }
  }
  EXPECT_EQ(client->map_version(), 2u);
  size_t total = 0;
  for (GroupId id : {1, 2, 3, 4}) total += cluster_.stores[id]->CellCount();
  EXPECT_EQ(total, static_cast<size_t>(kRows));
}

}  // namespace
}  // namespace penncloud::kvs::shard
