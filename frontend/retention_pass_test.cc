// The daily retention pass: trash expires for users no frontend has seen write, and only
// one frontend runs each pass.
#include "frontend/retention_pass.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "accounts/accounts.h"
#include "accounts/password_hash.h"
#include "drive/drive.h"
#include "kvs/client/memory_client.h"

namespace penncloud::frontend {
namespace {

constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;

class RetentionPassTest : public ::testing::Test {
 protected:
  RetentionPassTest() {
    drive::Options options;
    options.now_ms = [this] { return clock_.load(); };
    options.trash_retention_ms = 30 * kDayMs;
    drive_ = std::make_unique<drive::Drive>(&store_, options);
  }

  // A file `name` written and deleted by `user`: it sits in the trash, counted in the quota.
  void Trash(const std::string& user, const std::string& name) {
    auto upload = drive_->BeginUpload(user, name, {});
    ASSERT_TRUE(upload.ok()) << upload.status();
    ASSERT_TRUE((*upload)->Append("contents").ok());
    ASSERT_TRUE((*upload)->Commit().ok());
    ASSERT_TRUE(drive_->Delete(user, name).ok());
  }

  size_t TrashSize(const std::string& user) { return drive_->ListTrash(user)->size(); }

  RetentionPass Pass(std::set<std::string>* visited) {
    return RetentionPass(
        &store_,
        [this, visited](const std::string& user) {
          visited->insert(user);
          ASSERT_TRUE(drive_->CollectGarbage(user).ok());
        },
        RetentionPassOptions{.interval = std::chrono::milliseconds(kDayMs),
                             .check_every = std::chrono::milliseconds(0),
                             .now_ms = [this] { return clock_.load(); }});
  }

  kvs::MemoryClient store_;
  accounts::Accounts accounts_{&store_,
                               accounts::Options{.hash_params = accounts::kTestHashParams}};
  std::atomic<int64_t> clock_{1'765'000'000'000};
  std::unique_ptr<drive::Drive> drive_;
};

TEST_F(RetentionPassTest, TrashOfUsersWhoStoppedWritingExpires) {
  for (const char* user : {"alice", "bob", "carol"}) {
    ASSERT_TRUE(accounts_.SignUp(user, "long-enough-password").ok());
  }
  Trash("alice", "/old");
  Trash("bob", "/old");
  clock_ += 20 * kDayMs;
  Trash("bob", "/young");
  clock_ += 11 * kDayMs;  // alice's and bob's first files are 31 days in the trash

  std::set<std::string> visited;
  RetentionPass pass = Pass(&visited);
  EXPECT_EQ(*pass.RunIfDue(), 3);
  EXPECT_EQ(visited, (std::set<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(TrashSize("alice"), 0u);
  ASSERT_EQ(TrashSize("bob"), 1u);
  EXPECT_EQ(drive_->ListTrash("bob")->front().path, "/young");
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 0u) << "expired trash leaves the quota";
}

TEST_F(RetentionPassTest, OneFrontendPassesPerInterval) {
  ASSERT_TRUE(accounts_.SignUp("alice", "long-enough-password").ok());
  std::set<std::string> first_visits, second_visits;
  RetentionPass first = Pass(&first_visits);
  RetentionPass second = Pass(&second_visits);
  EXPECT_EQ(*first.RunIfDue(), 1);
  EXPECT_EQ(*second.RunIfDue(), 0) << "the other frontend's pass of this interval";
  EXPECT_EQ(*first.RunIfDue(), 0);
  clock_ += kDayMs - 1;
  EXPECT_EQ(*second.RunIfDue(), 0);
  clock_ += 1;
  EXPECT_EQ(*second.RunIfDue(), 1);
  EXPECT_EQ(*first.RunIfDue(), 0);
  EXPECT_TRUE(second_visits.contains("alice"));
}

TEST_F(RetentionPassTest, AGarbledTurnCellIsTakenOver) {
  ASSERT_TRUE(accounts_.SignUp("alice", "long-enough-password").ok());
  ASSERT_TRUE(store_.Put("drive.retention", "last_pass_ms", "not a time").ok());
  std::set<std::string> visits;
  EXPECT_EQ(*Pass(&visits).RunIfDue(), 1);
}

}  // namespace
}  // namespace penncloud::frontend
