// The user list's backfill over a scripted set of groups and an in-memory store: every old
// account found in any group is listed, other rows are left alone, a scan during a
// rebalance does not count, and a finished backfill is not run again.
#include "coordinator/admin_users_backfill.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "accounts/directory.h"
#include "accounts/rows.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::coordinator {
namespace {

// Groups of rows in store order; the map can be made to move while a scan reads.
class ScriptedRows final : public RowSource {
 public:
  std::map<std::string, std::set<std::string>> groups;
  int moving_reads = 0;       // the next this many DataGroups calls report a rebalance
  int unavailable_reads = 0;  // the next this many Rows calls fail
  int64_t pages_read = 0;

  absl::StatusOr<Groups> DataGroups() override {
    Groups out{.ids = {}, .map_version = 7, .moving = moving_reads > 0};
    if (moving_reads > 0) --moving_reads;
    for (const auto& [id, rows] : groups) out.ids.push_back(id);
    return out;
  }
  absl::StatusOr<kvs::RowPage> Rows(const std::string& group, const std::string& after,
                                    int limit) override {
    ++pages_read;
    if (unavailable_reads > 0) {
      --unavailable_reads;
      return absl::UnavailableError("leader changing");
    }
    kvs::RowPage page;
    const std::set<std::string>& rows = groups.at(group);
    for (auto it = rows.upper_bound(after); it != rows.end(); ++it) {
      if (static_cast<int>(page.rows.size()) == limit) {
        page.more = true;
        break;
      }
      page.rows.push_back(*it);
    }
    return page;
  }
};

class BackfillTest : public ::testing::Test {
 protected:
  // An account as it was stored before the user list existed.
  void OldAccount(const std::string& group, const std::string& name) {
    ASSERT_TRUE(store_.Put(accounts::rows::Account(name), "password", "$argon2id$...").ok());
    rows_.groups[group].insert(accounts::rows::Account(name));
  }
  std::vector<std::string> Listed() {
    std::vector<std::string> names;
    absl::StatusOr<accounts::UserPage> page = accounts::ListUsers(&store_, "", "", 100);
    EXPECT_TRUE(page.ok());
    for (const accounts::UserSummary& u : page->users) names.push_back(u.name);
    return names;
  }
  absl::StatusOr<BackfillResult> Run() {
    return BackfillUserList(&store_, &rows_, options_, stop_);
  }

  kvs::MemoryClient store_;
  ScriptedRows rows_;
  BackfillOptions options_{.rows_per_page = 3,
                           .max_pages_per_group = 1000,
                           .attempts = 5,
                           .retry_pause = std::chrono::milliseconds(1),
                           .now_unix_s = [] { return int64_t{42}; }};
  std::atomic<bool> stop_{false};
};

TEST_F(BackfillTest, EveryOldAccountInEveryGroupIsListed) {
  for (int i = 0; i < 10; ++i) OldAccount(absl::StrCat((i % 3) + 1), absl::StrCat("user", i));
  for (const char* other : {"usess/user1", "mbox/user2/INBOX", "acct/Upper", "users"}) {
    rows_.groups["2"].insert(other);
  }
  absl::StatusOr<BackfillResult> result = Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->accounts_listed, 10);
  EXPECT_EQ(result->rows_seen, 14);
  EXPECT_EQ(Listed().size(), 10u);
  EXPECT_EQ(Listed().front(), "user0");
  EXPECT_TRUE(*accounts::BackfillDone(&store_));

  // Done once: a later start reads nothing.
  int64_t pages = rows_.pages_read;
  OldAccount("1", "late");
  result = Run();
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->skipped);
  EXPECT_EQ(rows_.pages_read, pages);
}

TEST_F(BackfillTest, AScanDuringARebalanceOrAnOutageIsRepeated) {
  OldAccount("1", "amy");
  OldAccount("2", "ben");
  rows_.moving_reads = 1;       // the first attempt meets a rebalance,
  rows_.unavailable_reads = 1;  // the second a leader change
  absl::StatusOr<BackfillResult> result = Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(Listed(), (std::vector<std::string>{"amy", "ben"}));
  EXPECT_TRUE(*accounts::BackfillDone(&store_));
}

TEST_F(BackfillTest, GivesUpAfterItsAttemptsWithoutMarkingItDone) {
  OldAccount("1", "amy");
  rows_.moving_reads = 1000;
  absl::StatusOr<BackfillResult> result = Run();
  EXPECT_TRUE(absl::IsAborted(result.status())) << result.status();
  EXPECT_FALSE(*accounts::BackfillDone(&store_));
  store_.SetUnavailable(true);
  rows_.moving_reads = 0;
  EXPECT_TRUE(absl::IsUnavailable(Run().status()));
  store_.SetUnavailable(false);
  EXPECT_FALSE(*accounts::BackfillDone(&store_));
}

TEST_F(BackfillTest, AGroupBeyondThePageBoundIsRefused) {
  for (int i = 0; i < 10; ++i) OldAccount("1", absl::StrCat("user", i));
  options_.max_pages_per_group = 2;
  EXPECT_TRUE(absl::IsResourceExhausted(Run().status()));
  EXPECT_FALSE(*accounts::BackfillDone(&store_));
}

TEST_F(BackfillTest, StopEndsIt) {
  OldAccount("1", "amy");
  stop_ = true;
  EXPECT_TRUE(absl::IsCancelled(Run().status()));
}

}  // namespace
}  // namespace penncloud::coordinator
