// Watches on a real 3-replica group (docs/kvs.md "Watches"): a Put wakes a parked watch at
// once, a watch survives the leader's SIGKILL without missing the write made right after
// it, timeouts and cancels end it cleanly, and the per-replica cap holds.
#include <future>
#include <thread>

#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "kvs/client/replica_group_client.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {
namespace {

using Clock = std::chrono::steady_clock;
using kvs::WatchedCell;
using std::chrono::milliseconds;

std::vector<WatchedCell> Known(std::string column, std::optional<std::string> value) {
  return {WatchedCell{std::move(column), std::move(value)}};
}

// Waits up to 10 s until the group's leader holds `n` parked watches; false if it never does.
bool WaitParked(KvsGroup& group, uint64_t n) {
  const auto until = Clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < 1000 && Clock::now() < until; ++i) {
    absl::StatusOr<int> leader = group.Leader();
    if (leader.ok()) {
      kvs::ReplicaGroupClient one({group.address(*leader)});
      for (auto& [address, status] : one.StatusAll()) {
        if (status.ok() && status->watches_parked() == n) return true;
      }
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

class KvsWatchTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(std::vector<std::string> flags) {
    KvsGroupOptions options;
    options.extra_flags = std::move(flags);
    auto group = KvsGroup::Start(options);
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = std::move(*group);
    auto client = kvs::Connect(group_->spec());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }
  std::unique_ptr<KvsGroup> group_;
  std::unique_ptr<kvs::Client> client_;
};

TEST_F(KvsWatchTest, APutWakesAParkedWatchWithin100Ms) {
  ASSERT_TRUE(client_->Put("mail/bob", "box/inbox", "1").ok());
  auto watch = std::async(std::launch::async, [&] {
    auto changed =
        client_->Watch("mail/bob", Known("box/inbox", "1"), milliseconds(20000), nullptr);
    return std::make_pair(Clock::now(), changed);
  });
  ASSERT_TRUE(WaitParked(*group_, 1));
  ASSERT_TRUE(client_->Put("mail/bob", "box/inbox", "2").ok());
  const auto put_done = Clock::now();
  ASSERT_EQ(watch.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto [woken, changed] = watch.get();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, Known("box/inbox", "2"));
  // The leader answers the watch when it applies the write, before the Put's own reply.
  EXPECT_LT(woken - put_done, milliseconds(100));
  EXPECT_TRUE(WaitParked(*group_, 0));
}

TEST_F(KvsWatchTest, AChangeBeforeTheWatchIsSeenAtOnceThroughKnown) {
  ASSERT_TRUE(client_->Put("row", "c", "new").ok());
  const auto started = Clock::now();
  auto changed =
      client_->Watch("row", {{"c", "old"}, {"absent", std::nullopt}}, milliseconds(20000), nullptr);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, Known("c", "new"));
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
  // A delete is a change; a cell that is still absent is not.
  ASSERT_TRUE(client_->Delete("row", "c").ok());
  changed = client_->Watch("row", {{"c", "new"}}, milliseconds(20000), nullptr);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, Known("c", std::nullopt));
}

TEST_F(KvsWatchTest, AnUnchangedCellTimesOutWithNoCells) {
  ASSERT_TRUE(client_->Put("row", "c", "1").ok());
  const auto started = Clock::now();
  auto changed = client_->Watch("row", Known("c", "1"), milliseconds(400), nullptr);
  const auto took = Clock::now() - started;
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(changed->empty());
  EXPECT_GE(took, milliseconds(400));
  EXPECT_LT(took, milliseconds(3000));  // the 100 ms sweep plus a loaded machine
  EXPECT_TRUE(WaitParked(*group_, 0));
}

TEST_F(KvsWatchTest, AWatchSurvivesTheLeadersKillAndMissesNoWrite) {
  ASSERT_TRUE(client_->Put("row", "c", "1").ok());
  auto watch = std::async(std::launch::async, [&] {
    return client_->Watch("row", Known("c", "1"), milliseconds(30000), nullptr);
  });
  ASSERT_TRUE(WaitParked(*group_, 1));
  absl::StatusOr<int> leader = group_->Leader();
  ASSERT_TRUE(leader.ok());
  group_->Kill(*leader);
  // Written at once: it may be chosen before the watcher has found the new leader, so
  // only the comparison with `known` there can catch it.
  ASSERT_TRUE(client_->Put("row", "c", "2").ok());
  ASSERT_EQ(watch.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto changed = watch.get();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, Known("c", "2"));
}

TEST_F(KvsWatchTest, ACancelEndsTheWatchAndFreesItsPlace) {
  kvs::WatchCancel cancel;
  auto watch = std::async(std::launch::async, [&] {
    return client_->Watch("row", Known("c", std::nullopt), milliseconds(30000), &cancel);
  });
  ASSERT_TRUE(WaitParked(*group_, 1));
  const auto started = Clock::now();
  cancel.Cancel();
  ASSERT_EQ(watch.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(absl::IsCancelled(watch.get().status()));
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));
  EXPECT_TRUE(WaitParked(*group_, 0));  // the replica heard the caller go away
}

TEST_F(KvsWatchTest, TheCapRefusesWatchesPastIt) {
  Start({"--max_watches=1"});
  kvs::WatchCancel cancel;
  auto first = std::async(std::launch::async, [&] {
    return client_->Watch("row", Known("c", std::nullopt), milliseconds(30000), &cancel);
  });
  ASSERT_TRUE(WaitParked(*group_, 1));
  auto second = client_->Watch("row", Known("d", std::nullopt), milliseconds(30000), nullptr);
  EXPECT_TRUE(absl::IsResourceExhausted(second.status())) << second.status();
  cancel.Cancel();
  EXPECT_TRUE(absl::IsCancelled(first.get().status()));
  // Bad input is refused before it is sent.
  EXPECT_TRUE(
      absl::IsInvalidArgument(client_->Watch("row", {}, milliseconds(10), nullptr).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->Watch("row", {{"c", "1"}, {"c", "2"}}, milliseconds(10), nullptr).status()));
}

}  // namespace
}  // namespace penncloud::testing
