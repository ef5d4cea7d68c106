#include "kvs/shard/rebalancer.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "kvs/shard/map_testing.h"
#include "kvs/shard/sharded_client.h"
#include "kvs/shard/wrong_group.h"

namespace penncloud::kvs::shard {
namespace {

using testing::MakeGroup;
using testing::MakeMap;

std::string Row(int i) { return absl::StrCat("user", i); }

RingRange RangeOf(const cluster::Migration& m) { return {m.range().start(), m.range().end()}; }

// Replica groups as docs/sharding.md section 5 specifies them, in memory: each group has its
// cells, the map it applied and its migration table, and decides per request whether it
// serves the row. Every step and every request is atomic under `mu`.
class FakeGroups final : public GroupSteps {
 public:
  enum class Local { kNone, kFrozen, kInstalled, kReleased, kActive, kDropped, kAborted };
  enum class Verdict { kServe, kWrongGroup, kRetry };

  struct Group {
    std::map<std::pair<std::string, std::string>, std::string> cells;
    std::shared_ptr<const ClusterMap> map;
    std::map<uint64_t, Local> table;
  };

  std::mutex mu;
  std::map<GroupId, Group> groups;
  int fail_installs = 0;  // the next this many Install calls fail
  int fail_releases = 0;
  std::atomic<int> wrong_group_answers = 0;
  std::atomic<int> retries = 0;  // requests held back by a frozen or arriving range

  // REQUIRES: mu held.
  Verdict Check(GroupId id, std::string_view row, bool write) {
    Group& g = groups[id];
    if (g.map == nullptr) return Verdict::kServe;
    const uint64_t position = RingPosition(row);
    if (g.map->GroupOfPosition(position) != id) return Verdict::kWrongGroup;
    for (const cluster::Migration& m : g.map->proto().migrations()) {
      if (!RangeOf(m).Contains(position)) continue;
      auto it = g.table.find(m.id());
      const bool known = it != g.table.end();
      if (m.from_group() == id && known) {
        if (it->second == Local::kReleased || it->second == Local::kDropped) {
          return Verdict::kWrongGroup;
        }
        if (it->second == Local::kFrozen && write) return Verdict::kRetry;
      }
      if (m.to_group() == id && (!known || it->second != Local::kActive)) return Verdict::kRetry;
    }
    return Verdict::kServe;
  }

  absl::Status InstallMap(GroupId id, const ClusterMap& map) override {
    std::lock_guard lock(mu);
    Group& g = groups[id];
    if (g.map == nullptr || map.version() > g.map->version()) {
      g.map = std::make_shared<const ClusterMap>(map);
    }
    return absl::OkStatus();
  }
  absl::Status Freeze(const cluster::Migration& m) override {
    std::lock_guard lock(mu);
    auto& local = groups[m.from_group()].table[m.id()];
    if (local == Local::kNone) local = Local::kFrozen;
    return absl::OkStatus();
  }
  absl::StatusOr<InstallResult> Install(const cluster::Migration& m) override {
    std::lock_guard lock(mu);
    if (fail_installs > 0) {
      --fail_installs;
      return absl::UnavailableError("destination leader changed (test)");
    }
    EXPECT_EQ(groups[m.from_group()].table[m.id()], Local::kFrozen);
    auto& to = groups[m.to_group()].cells;
    std::erase_if(
        to, [&](const auto& cell) { return RangeOf(m).Contains(RingPosition(cell.first.first)); });
    InstallResult result;
    for (const auto& [key, value] : groups[m.from_group()].cells) {
      if (!RangeOf(m).Contains(RingPosition(key.first))) continue;
      to[key] = value;
      ++result.cells;
      result.bytes += key.first.size() + key.second.size() + value.size();
    }
    groups[m.to_group()].table[m.id()] = Local::kInstalled;
    return result;
  }
  absl::Status Release(const cluster::Migration& m) override {
    std::lock_guard lock(mu);
    if (fail_releases > 0) {
      --fail_releases;
      return absl::UnavailableError("source unreachable (test)");
    }
    auto& local = groups[m.from_group()].table[m.id()];
    if (local != Local::kDropped) local = Local::kReleased;
    return absl::OkStatus();
  }
  absl::Status Activate(const cluster::Migration& m) override {
    std::lock_guard lock(mu);
    const Local source = groups[m.from_group()].table[m.id()];
    EXPECT_TRUE(source == Local::kReleased || source == Local::kDropped) << "both would serve";
    groups[m.to_group()].table[m.id()] = Local::kActive;
    return absl::OkStatus();
  }
  absl::Status Drop(const cluster::Migration& m) override {
    std::lock_guard lock(mu);
    std::erase_if(groups[m.from_group()].cells, [&](const auto& cell) {
      return RangeOf(m).Contains(RingPosition(cell.first.first));
    });
    groups[m.from_group()].table[m.id()] = Local::kDropped;
    return absl::OkStatus();
  }
  absl::Status Discard(const cluster::Migration& m) override {
    std::lock_guard lock(mu);
    auto& local = groups[m.to_group()].table[m.id()];
    EXPECT_NE(local, Local::kActive) << "aborting a range that is served";
    if (local == Local::kInstalled) {
      std::erase_if(groups[m.to_group()].cells, [&](const auto& cell) {
        return RangeOf(m).Contains(RingPosition(cell.first.first));
      });
    }
    local = Local::kAborted;
    ++discards;
    return absl::OkStatus();
  }
  absl::Status Unfreeze(const cluster::Migration& m) override {
    std::lock_guard lock(mu);
    auto& local = groups[m.from_group()].table[m.id()];
    if (local == Local::kNone || local == Local::kFrozen) local = Local::kAborted;
    return absl::OkStatus();
  }
  int discards = 0;
};

// One group's client: retries "frozen" and "arriving" like the group client does, and
// answers wrong group like a replica.
class FakeGroupClient final : public Client {
 public:
  FakeGroupClient(FakeGroups& groups, GroupId id) : groups_(groups), id_(id) {}

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    return Do<absl::StatusOr<std::string>>(row, false,
                                           [&](auto& cells) -> absl::StatusOr<std::string> {
                                             auto it = cells.find(Key(row, column));
                                             if (it == cells.end())
                                               return absl::NotFoundError("no cell");
                                             return it->second;
                                           });
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    return Do<absl::Status>(row, true, [&](auto& cells) {
      cells[Key(row, column)] = std::string(value);
      return absl::OkStatus();
    });
  }
  absl::StatusOr<bool> CPut(std::string_view, std::string_view, std::optional<std::string_view>,
                            std::string_view) override {
    return absl::UnimplementedError("not needed here");
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    return Do<absl::Status>(row, true, [&](auto& cells) {
      cells.erase(Key(row, column));
      return absl::OkStatus();
    });
  }
  absl::StatusOr<bool> CDelete(std::string_view, std::string_view, std::string_view) override {
    return absl::UnimplementedError("not needed here");
  }
  absl::StatusOr<ColumnPage> List(std::string_view, const ListOptions&) override {
    return absl::UnimplementedError("not needed here");
  }

 private:
  static std::pair<std::string, std::string> Key(std::string_view row, std::string_view column) {
    return {std::string(row), std::string(column)};
  }

  template <typename Result, typename Op>
  Result Do(std::string_view row, bool write, const Op& op) {
    for (int attempt = 0; attempt < 10000; ++attempt) {
      {
        std::lock_guard lock(groups_.mu);
        switch (groups_.Check(id_, row, write)) {
          case FakeGroups::Verdict::kServe:
            return op(groups_.groups[id_].cells);
          case FakeGroups::Verdict::kWrongGroup:
            ++groups_.wrong_group_answers;
            return WrongGroupError(groups_.groups[id_].map->version());
          case FakeGroups::Verdict::kRetry:
            ++groups_.retries;
            break;
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return absl::UnavailableError("still frozen (test)");
  }

  FakeGroups& groups_;
  const GroupId id_;
};

class RebalancerTest : public ::testing::Test {
 protected:
  static constexpr int kRows = 1500;

  void SetUp() override {
    // Few virtual nodes keep the number of migrations (and the test's time) small.
    ClusterMap v1 = *store_.Initialize(MakeMap(1, {1, 2, 3}, 24));
    for (const cluster::Group& g : v1.proto().groups()) {
      ASSERT_TRUE(groups_.InstallMap(g.id(), v1).ok());
    }
  }

  std::unique_ptr<ShardedClient> NewClient() {
    return std::make_unique<ShardedClient>(
        config_, [this](const cluster::Group& group) -> absl::StatusOr<std::unique_ptr<Client>> {
          return std::make_unique<FakeGroupClient>(groups_, group.id());
        });
  }

  void Plan(const std::function<absl::StatusOr<cluster::ClusterMap>(const ClusterMap&)>& plan) {
    absl::StatusOr<ClusterMap> planned = store_.Update(plan);
    ASSERT_TRUE(planned.ok()) << planned.status();
    ASSERT_GT(planned->proto().migrations_size(), 0);
  }

  // Writers keep overwriting every row through the sharded client while `work` runs; then
  // every row must hold the last value acknowledged for it, in the group the map names.
  void UnderLoad(const std::function<void()>& work) {
    auto client = NewClient();
    for (int i = 0; i < kRows; ++i) ASSERT_TRUE(client->Put(Row(i), "c", "0").ok());
    constexpr int kWriters = 3;
    std::atomic<bool> stop = false;
    std::atomic<int> writes = 0;
    std::vector<std::map<int, int>> last(kWriters);
    std::vector<std::thread> writers;
    for (int t = 0; t < kWriters; ++t) {
      writers.emplace_back([&, t] {
        for (int round = 1; !stop.load(); ++round) {
          for (int i = t; i < kRows; i += kWriters) {
            absl::Status put = client->Put(Row(i), "c", absl::StrCat(round));
            ASSERT_TRUE(put.ok()) << put;
            last[t][i] = round;
            ++writes;
          }
        }
      });
    }
    // The writers are busy before the work starts, and write every row again after it ends
    // (with whatever map they cached during it).
    while (writes.load() < kRows) std::this_thread::yield();
    work();
    const int after_work = writes.load() + 2 * kRows;
    while (writes.load() < after_work) std::this_thread::yield();
    stop = true;
    for (std::thread& w : writers) w.join();
    auto reader = NewClient();
    for (int t = 0; t < kWriters; ++t) {
      for (const auto& [i, round] : last[t]) {
        absl::StatusOr<std::string> value = reader->Get(Row(i), "c");
        ASSERT_TRUE(value.ok()) << Row(i) << ": " << value.status();
        EXPECT_EQ(*value, absl::StrCat(round)) << Row(i);
      }
    }
    ExpectPlacedByRing();
  }

  // Every cell sits in exactly the group the stored map's ring names, and nowhere else.
  void ExpectPlacedByRing() {
    ClusterMap map = *store_.Read();
    EXPECT_EQ(map.proto().migrations_size(), 0);
    std::lock_guard lock(groups_.mu);
    size_t total = 0;
    for (const auto& [id, group] : groups_.groups) {
      for (const auto& [key, value] : group.cells) {
        EXPECT_EQ(map.ring().OwnerOfRow(key.first), id) << key.first;
      }
      total += group.cells.size();
      if (map.FindGroup(id) != nullptr) {
        EXPECT_EQ(group.map->version(), map.version());
      }
    }
    EXPECT_EQ(total, static_cast<size_t>(kRows));
  }

  FakeGroups groups_;
  std::shared_ptr<MemoryClient> config_ = std::make_shared<MemoryClient>();
  ConfigStore store_{*config_};
};

TEST_F(RebalancerTest, NothingToDoIsANoOp) {
  Rebalancer rebalancer(store_, groups_);
  ASSERT_TRUE(rebalancer.Run().ok());
  EXPECT_EQ(store_.Read()->version(), 1u);
}

TEST_F(RebalancerTest, AddsAGroupWhileClientsWrite) {
  Plan([](const ClusterMap& current) { return PlanAddGroup(current, MakeGroup(4)); });
  std::vector<RebalanceProgress> progress;
  UnderLoad([&] {
    Rebalancer rebalancer(store_, groups_);
    absl::Status run = rebalancer.Run([&](const RebalanceProgress& p) { progress.push_back(p); });
    ASSERT_TRUE(run.ok()) << run;
  });
  ASSERT_FALSE(progress.empty());
  // The last report before the tidy-up shows every range moved.
  const RebalanceProgress& done = progress[progress.size() - 2];
  EXPECT_GT(done.ranges_total, 0u);
  EXPECT_EQ(done.ranges_done, done.ranges_total);
  EXPECT_GT(done.bytes_done, 0u);
  EXPECT_GT(groups_.wrong_group_answers.load(), 0);
  std::lock_guard lock(groups_.mu);
  EXPECT_GT(groups_.groups[4].cells.size(), kRows / 8u);
}

TEST_F(RebalancerTest, RemovesAGroupWhileClientsWrite) {
  Plan([](const ClusterMap& current) { return PlanRemoveGroup(current, 2); });
  UnderLoad([&] {
    Rebalancer rebalancer(store_, groups_);
    absl::Status run = rebalancer.Run();
    ASSERT_TRUE(run.ok()) << run;
  });
  EXPECT_EQ(store_.Read()->FindGroup(2), nullptr);
  std::lock_guard lock(groups_.mu);
  EXPECT_TRUE(groups_.groups[2].cells.empty());
}

TEST_F(RebalancerTest, ResumesWhereAFailedRunStopped) {
  Plan([](const ClusterMap& current) { return PlanAddGroup(current, MakeGroup(4)); });
  groups_.fail_installs = 1;
  groups_.fail_releases = 2;
  UnderLoad([&] {
    Rebalancer rebalancer(store_, groups_);
    int runs = 0;
    absl::Status run;
    do {
      run = rebalancer.Run();
      ++runs;
      if (runs == 1) {
        // The first run stopped at the first install, after recording the freeze.
        ASSERT_TRUE(absl::IsUnavailable(run)) << run;
        EXPECT_EQ(store_.Read()->proto().migrations(0).state(), cluster::MIGRATION_FROZEN);
      }
    } while (!run.ok() && runs < 10);
    ASSERT_TRUE(run.ok()) << run;
    EXPECT_EQ(runs, 4);
  });
}

TEST_F(RebalancerTest, MovesSeveralRangesAtOnceWhileClientsWrite) {
  Plan([](const ClusterMap& current) { return PlanAddGroup(current, MakeGroup(4)); });
  uint64_t most_in_flight = 0;
  UnderLoad([&] {
    Rebalancer rebalancer(store_, groups_, {.parallel = 4});
    absl::Status run = rebalancer.Run([&](const RebalanceProgress& p) {
      most_in_flight = std::max(most_in_flight, p.ranges_in_flight);
    });
    ASSERT_TRUE(run.ok()) << run;
  });
  EXPECT_GT(most_in_flight, 1u);
  EXPECT_LE(most_in_flight, 4u);
}

TEST_F(RebalancerTest, AbortBeforeTheSwitchRestoresTheOldRing) {
  const ClusterMap before = *store_.Read();
  Plan([](const ClusterMap& current) { return PlanAddGroup(current, MakeGroup(4)); });
  groups_.fail_installs = 1;
  UnderLoad([&] {
    Rebalancer rebalancer(store_, groups_);
    ASSERT_TRUE(absl::IsUnavailable(rebalancer.Run()));
    ASSERT_EQ(store_.Read()->proto().migrations(0).state(), cluster::MIGRATION_FROZEN);
    absl::Status abort = rebalancer.Abort();
    ASSERT_TRUE(abort.ok()) << abort;
  });
  // UnderLoad checked every row against the ring of the stored map; that ring is the one
  // before the plan, and group 4 is gone from it.
  const ClusterMap after = *store_.Read();
  EXPECT_EQ(after.FindGroup(4), nullptr);
  EXPECT_TRUE(DiffMaps(before, after).empty());
  EXPECT_GT(groups_.discards, 0);
  EXPECT_TRUE(absl::IsNotFound(Rebalancer(store_, groups_).Abort()));
}

TEST_F(RebalancerTest, AbortAfterASwitchIsRefusedAndTheRunFinishes) {
  Plan([](const ClusterMap& current) { return PlanAddGroup(current, MakeGroup(4)); });
  groups_.fail_releases = 1;
  UnderLoad([&] {
    Rebalancer rebalancer(store_, groups_);
    ASSERT_FALSE(rebalancer.Run().ok());
    ASSERT_EQ(store_.Read()->proto().migrations(0).state(), cluster::MIGRATION_SWITCHED);
    const uint64_t version = store_.Read()->version();
    absl::Status abort = rebalancer.Abort();
    EXPECT_TRUE(absl::IsFailedPrecondition(abort)) << abort;
    EXPECT_EQ(store_.Read()->version(), version);  // nothing changed
    EXPECT_EQ(groups_.discards, 0);
    ASSERT_TRUE(rebalancer.Run().ok());
  });
  EXPECT_NE(store_.Read()->FindGroup(4), nullptr);
}

TEST_F(RebalancerTest, ASecondRebalancerWaitsForTheLease) {
  Plan([](const ClusterMap& current) { return PlanAddGroup(current, MakeGroup(4)); });
  RebalancerLease first(*config_, "first", absl::Seconds(30));
  ASSERT_TRUE(first.Acquire(absl::Now()).ok());
  RebalancerLease second_lease(*config_, "second", absl::Seconds(30));
  Rebalancer second(store_, groups_, {.lease = &second_lease});
  const uint64_t version = store_.Read()->version();
  absl::Status refused = second.Run();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_NE(refused.message().find("first"), std::string::npos) << refused;
  EXPECT_TRUE(absl::IsFailedPrecondition(second.Abort()));
  EXPECT_EQ(store_.Read()->version(), version);  // no step taken, no record written
  first.Release();
  UnderLoad([&] { ASSERT_TRUE(second.Run().ok()); });
  EXPECT_FALSE(second_lease.held());  // released at the end of the run
}

}  // namespace
}  // namespace penncloud::kvs::shard
