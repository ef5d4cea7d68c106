#include "frontend/deadline_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/write_deadline.h"
#include "kvs/client/memory_client.h"

namespace penncloud::frontend {
namespace {

using std::chrono::milliseconds;

TEST(WriteDeadlineTest, BudgetComesFromTheHeaderCappedAndDefaulted) {
  EXPECT_EQ(write_deadline::BudgetFor("5000"), milliseconds(5000));
  EXPECT_EQ(write_deadline::BudgetFor(""), write_deadline::kMaxBudget);
  EXPECT_EQ(write_deadline::BudgetFor("0"), write_deadline::kMaxBudget);
  EXPECT_EQ(write_deadline::BudgetFor("-5"), write_deadline::kMaxBudget);
  EXPECT_EQ(write_deadline::BudgetFor("12abc"), write_deadline::kMaxBudget);
  EXPECT_EQ(write_deadline::BudgetFor("99999999999999999999"), write_deadline::kMaxBudget);
  EXPECT_EQ(write_deadline::BudgetFor(std::to_string(write_deadline::kMaxBudget.count() + 1)),
            write_deadline::kMaxBudget);
}

TEST(WriteDeadlineTest, TimeInTransitSinceTheProxysStampComesOffTheBudget) {
  using std::chrono::system_clock;
  const system_clock::time_point now{milliseconds(1765000010000)};
  const milliseconds budget(5000);
  EXPECT_EQ(write_deadline::Remaining(budget, "1765000009000", now), milliseconds(4000));
  // Delivered 14 s late, as a one-way cut did: nothing left.
  EXPECT_EQ(write_deadline::Remaining(budget, "1764999996000", now), milliseconds(0));
  EXPECT_EQ(write_deadline::Remaining(budget, "1", now), milliseconds(0));
  // A coordinator clock ahead of this one takes nothing off; no stamp or garbage: the whole.
  EXPECT_EQ(write_deadline::Remaining(budget, "1765000011000", now), budget);
  EXPECT_EQ(write_deadline::Remaining(budget, "", now), budget);
  EXPECT_EQ(write_deadline::Remaining(budget, "-5", now), budget);
  EXPECT_EQ(write_deadline::Remaining(budget, "12abc", now), budget);
  EXPECT_EQ(write_deadline::Remaining(budget, "99999999999999999999", now), budget);

  write_deadline::Scope late(write_deadline::Remaining(budget, "1764999996000", now));
  EXPECT_TRUE(write_deadline::Passed());
  kvs::MemoryClient memory;
  DeadlineStore store(&memory);
  EXPECT_TRUE(absl::IsDeadlineExceeded(store.Put("r", "c", "v")));
}

TEST(WriteDeadlineTest, TheClientsOwnDeadlineHoldsWhateverTheStampsSay) {
  using std::chrono::system_clock;
  const system_clock::time_point now{milliseconds(1765000010000)};
  EXPECT_EQ(write_deadline::UntilClientDeadline("1765000013000", now), milliseconds(3000));
  EXPECT_LE(*write_deadline::UntilClientDeadline("1765000001000", now), milliseconds(0));
  EXPECT_LE(*write_deadline::UntilClientDeadline("1", now), milliseconds(0));
  EXPECT_EQ(write_deadline::UntilClientDeadline("99999999999999", now), write_deadline::kMaxBudget);
  EXPECT_EQ(write_deadline::UntilClientDeadline("", now), std::nullopt);
  EXPECT_EQ(write_deadline::UntilClientDeadline("-5", now), std::nullopt);
  EXPECT_EQ(write_deadline::UntilClientDeadline("12abc", now), std::nullopt);

  kvs::MemoryClient memory;
  DeadlineStore store(&memory);
  {
    // A request the network held past its client's deadline arrives with a fresh coordinator
    // stamp and a whole budget: still nothing is written, even as more of its body comes.
    write_deadline::Scope held(milliseconds(5000),
                               write_deadline::UntilClientDeadline("1765000001000", now));
    EXPECT_TRUE(write_deadline::Passed());
    write_deadline::Restart();
    EXPECT_TRUE(write_deadline::Passed());
    EXPECT_TRUE(absl::IsDeadlineExceeded(store.Put("r", "c", "late")));
  }
  {
    write_deadline::Scope in_time(milliseconds(5000), milliseconds(60000));
    EXPECT_FALSE(write_deadline::Passed());
    EXPECT_TRUE(store.Put("r", "c", "v").ok());
  }
  {
    // The earlier end wins, so the KVS leader is told the client's deadline.
    write_deadline::Scope short_client(milliseconds(50000), milliseconds(20));
    EXPECT_LT(*write_deadline::Deadline(), std::chrono::steady_clock::now() + milliseconds(1000));
  }
  EXPECT_EQ(*memory.Get("r", "c"), "v");
}

TEST(DeadlineStoreTest, WritesOutsideARequestAreNotLimited) {
  kvs::MemoryClient memory;
  DeadlineStore store(&memory);
  EXPECT_FALSE(write_deadline::Passed());
  ASSERT_TRUE(store.Put("r", "c", "v").ok());
  EXPECT_EQ(*memory.Get("r", "c"), "v");
}

TEST(DeadlineStoreTest, ARequestPastItsBudgetChangesNothingButStillReads) {
  kvs::MemoryClient memory;
  ASSERT_TRUE(memory.Put("r", "c", "old").ok());
  DeadlineStore store(&memory);
  write_deadline::Scope request(milliseconds(20));
  ASSERT_TRUE(store.Put("r", "fresh", "1").ok());  // within the budget
  const auto started = std::chrono::steady_clock::now();
  while (!write_deadline::Passed() &&
         std::chrono::steady_clock::now() - started < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(write_deadline::Passed());

  EXPECT_TRUE(absl::IsDeadlineExceeded(store.Put("r", "c", "new")));
  EXPECT_TRUE(absl::IsDeadlineExceeded(store.CPut("r", "c", "old", "new").status()));
  EXPECT_TRUE(absl::IsDeadlineExceeded(store.Delete("r", "c")));
  EXPECT_TRUE(absl::IsDeadlineExceeded(store.CDelete("r", "c", "old").status()));
  EXPECT_EQ(*memory.Get("r", "c"), "old");
  EXPECT_EQ(*store.Get("r", "c"), "old");
  EXPECT_TRUE(store.List("r", {}).ok());

  // More of the request arrived: the budget runs again from now.
  write_deadline::Restart();
  EXPECT_TRUE(store.Put("r", "c", "new").ok());
  EXPECT_EQ(*memory.Get("r", "c"), "new");
}

// A store whose leader refuses every write as arriving after its deadline.
class LateStore final : public kvs::Client {
 public:
  absl::StatusOr<std::string> Get(std::string_view, std::string_view) override {
    return absl::NotFoundError("none");
  }
  absl::Status Put(std::string_view, std::string_view, std::string_view) override { return Late(); }
  absl::StatusOr<bool> CPut(std::string_view, std::string_view, std::optional<std::string_view>,
                            std::string_view) override {
    return Late();
  }
  absl::Status Delete(std::string_view, std::string_view) override { return Late(); }
  absl::StatusOr<bool> CDelete(std::string_view, std::string_view, std::string_view) override {
    return Late();
  }
  absl::StatusOr<kvs::ColumnPage> List(std::string_view, const kvs::ListOptions&) override {
    return kvs::ColumnPage{};
  }

 private:
  static absl::Status Late() { return absl::FailedPreconditionError(kvs::kWriteTooLate); }
};

TEST(DeadlineStoreTest, TheStoresOwnRefusalOfALateWriteIsNotAConflict) {
  LateStore late;
  DeadlineStore store(&late);
  EXPECT_TRUE(absl::IsDeadlineExceeded(store.Put("r", "c", "v")));
  EXPECT_TRUE(absl::IsDeadlineExceeded(store.CPut("r", "c", std::nullopt, "v").status()));
  EXPECT_TRUE(absl::IsDeadlineExceeded(store.Delete("r", "c")));
  EXPECT_TRUE(absl::IsDeadlineExceeded(store.CDelete("r", "c", "v").status()));
}

TEST(DeadlineStoreTest, TheBudgetEndsWithItsRequest) {
  kvs::MemoryClient memory;
  DeadlineStore store(&memory);
  {
    write_deadline::Scope request(milliseconds(0));
    std::this_thread::sleep_for(milliseconds(2));
    EXPECT_FALSE(store.Put("r", "c", "v").ok());
  }
  // The worker thread's next request (or background work) is not held to it.
  EXPECT_TRUE(store.Put("r", "c", "v").ok());
}

}  // namespace
}  // namespace penncloud::frontend
