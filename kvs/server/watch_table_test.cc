#include "kvs/server/watch_table.h"

#include <thread>

#include "gtest/gtest.h"

namespace penncloud::kvs::server {
namespace {

using Clock = WatchTable::Clock;
using std::chrono::milliseconds;

// Records its one answer; a second answer fails the test.
class FakeWatcher final : public Watcher {
 public:
  void Answer(const absl::Status& status, std::vector<WatchedCell> changed) override {
    EXPECT_FALSE(answered) << "answered twice";
    answered = true;
    this->status = status;
    this->changed = std::move(changed);
  }
  bool answered = false;
  absl::Status status;
  std::vector<WatchedCell> changed;
};

const Clock::time_point kLater = Clock::now() + std::chrono::hours(1);

std::vector<WatchedCell> Known(std::string column, std::optional<std::string> value) {
  return {WatchedCell{std::move(column), std::move(value)}};
}

TEST(WatchTableTest, AWriteToTheCellWakesItsWatchersWithTheNewValue) {
  WatchTable table(10);
  FakeWatcher a, b, other;
  ASSERT_TRUE(table.Park("row", Known("c", "1"), kLater, &a).ok());
  ASSERT_TRUE(table.Park("row", {{"x", std::nullopt}, {"c", "1"}}, kLater, &b).ok());
  ASSERT_TRUE(table.Park("row", Known("d", "1"), kLater, &other).ok());
  EXPECT_TRUE(table.Watches("row"));
  EXPECT_FALSE(table.Watches("another"));

  table.Changed("row", "c", "2");
  ASSERT_TRUE(a.answered);
  EXPECT_TRUE(a.status.ok());
  EXPECT_EQ(a.changed, Known("c", "2"));
  ASSERT_TRUE(b.answered);
  EXPECT_EQ(b.changed, Known("c", "2"));
  EXPECT_FALSE(other.answered);  // another column of the same row
  EXPECT_EQ(table.size(), 1u);

  table.Changed("row", "d", std::nullopt);  // a delete is a change too
  ASSERT_TRUE(other.answered);
  EXPECT_EQ(other.changed, Known("d", std::nullopt));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.Watches("row"));
}

TEST(WatchTableTest, AWriteOfTheKnownValueWakesNobody) {
  WatchTable table(10);
  FakeWatcher w;
  ASSERT_TRUE(table.Park("row", Known("c", "1"), kLater, &w).ok());
  table.Changed("row", "c", "1");
  EXPECT_FALSE(w.answered);
  FakeWatcher absent;
  ASSERT_TRUE(table.Park("row", Known("gone", std::nullopt), kLater, &absent).ok());
  table.Changed("row", "gone", std::nullopt);
  EXPECT_FALSE(absent.answered);
  table.Changed("row", "gone", "");  // an empty value is not an absent cell
  EXPECT_TRUE(absent.answered);
}

TEST(WatchTableTest, AWatchTimesOutWithNoCells) {
  WatchTable table(10);
  FakeWatcher soon, late;
  const auto now = Clock::now();
  ASSERT_TRUE(table.Park("row", Known("c", "1"), now + milliseconds(50), &soon).ok());
  ASSERT_TRUE(table.Park("row", Known("c", "1"), now + milliseconds(500), &late).ok());
  table.Expire(now + milliseconds(49));
  EXPECT_FALSE(soon.answered);
  table.Expire(now + milliseconds(50));
  ASSERT_TRUE(soon.answered);
  EXPECT_TRUE(soon.status.ok());
  EXPECT_TRUE(soon.changed.empty());
  EXPECT_FALSE(late.answered);
  EXPECT_EQ(table.size(), 1u);
}

TEST(WatchTableTest, ACallerThatWentAwayIsRemovedAndAnsweredByItsOwnThread) {
  WatchTable table(10);
  FakeWatcher w;
  ASSERT_TRUE(table.Park("row", Known("c", "1"), kLater, &w).ok());
  w.MarkCancelled();
  EXPECT_TRUE(table.Cancel(&w));  // the caller answers it, not the table
  EXPECT_FALSE(w.answered);
  EXPECT_EQ(table.size(), 0u);
  table.Changed("row", "c", "2");
  EXPECT_FALSE(w.answered);
  EXPECT_FALSE(table.Cancel(&w));  // a second cancel finds nothing

  // Cancelled before the loop parked it: refused, so it cannot sit there until its timeout.
  FakeWatcher early;
  early.MarkCancelled();
  EXPECT_TRUE(absl::IsCancelled(table.Park("row", Known("c", "1"), kLater, &early)));
  EXPECT_EQ(table.size(), 0u);

  // Answered by a write first: the cancel finds nothing, so nobody answers twice.
  FakeWatcher woken;
  ASSERT_TRUE(table.Park("row", Known("c", "1"), kLater, &woken).ok());
  table.Changed("row", "c", "3");
  woken.MarkCancelled();
  EXPECT_FALSE(table.Cancel(&woken));
}

TEST(WatchTableTest, CancelsFromOtherThreadsRaceWakesWithoutDoubleAnswers) {
  WatchTable table(1000);
  std::vector<FakeWatcher> watchers(500);
  for (FakeWatcher& w : watchers) ASSERT_TRUE(table.Park("row", Known("c", "1"), kLater, &w).ok());
  std::atomic<int> cancelled{0};
  std::thread canceller([&] {
    for (FakeWatcher& w : watchers) {
      w.MarkCancelled();
      if (table.Cancel(&w)) cancelled.fetch_add(1);
    }
  });
  table.Changed("row", "c", "2");
  canceller.join();
  int woken = 0;
  for (const FakeWatcher& w : watchers) woken += w.answered ? 1 : 0;
  EXPECT_EQ(woken + cancelled.load(), 500);
  EXPECT_EQ(table.size(), 0u);
}

TEST(WatchTableTest, LeadershipLossAnswersEveryWatchWithTheError) {
  WatchTable table(10);
  FakeWatcher a, b;
  ASSERT_TRUE(table.Park("r1", Known("c", "1"), kLater, &a).ok());
  ASSERT_TRUE(table.Park("r2", Known("c", "1"), kLater, &b).ok());
  table.FailAll(absl::UnavailableError("leadership lost"));
  ASSERT_TRUE(a.answered && b.answered);
  EXPECT_TRUE(absl::IsUnavailable(a.status));
  EXPECT_TRUE(absl::IsUnavailable(b.status));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.Watches("r1"));
}

TEST(WatchTableTest, TheCapRefusesMoreWatchesUntilOneIsAnswered) {
  WatchTable table(2);
  FakeWatcher a, b, c;
  ASSERT_TRUE(table.Park("row", Known("c", "1"), kLater, &a).ok());
  ASSERT_TRUE(table.Park("row", Known("d", "1"), kLater, &b).ok());
  absl::Status full = table.Park("row", Known("e", "1"), kLater, &c);
  EXPECT_TRUE(absl::IsResourceExhausted(full)) << full;
  EXPECT_FALSE(c.answered);  // refused, not parked: the caller answers it
  table.Changed("row", "c", "2");
  EXPECT_TRUE(table.Park("row", Known("e", "1"), kLater, &c).ok());
}

}  // namespace
}  // namespace penncloud::kvs::server
