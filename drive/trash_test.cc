// The trash: deletes keep files and folders restorable, counted toward the quota, until
// purged, emptied or expired.
#include <gtest/gtest.h>

#include "drive/drive.h"
#include "drive/test_util.h"

namespace penncloud::drive {
namespace {

class TrashTest : public DriveTest {
 protected:
  TrashTest() : DriveTest(/*chunk_bytes=*/4, /*recovery=*/true) {}
  uint64_t Used(const std::string& user) { return drive_->GetUsage(user)->used_bytes; }
};

TEST_F(TrashTest, DeletedFileIsListedAndRestoredWhole) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/docs").ok());
  ASSERT_TRUE(Write("alice", "/docs/a.txt", "hello trash").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/docs/a.txt").ok());
  EXPECT_TRUE(Names("alice", "/docs").empty());
  EXPECT_EQ(Used("alice"), 11u);  // still counted

  auto trash = drive_->ListTrash("alice");
  ASSERT_TRUE(trash.ok());
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_EQ((*trash)[0].path, "/docs/a.txt");
  EXPECT_FALSE((*trash)[0].folder);
  EXPECT_EQ((*trash)[0].size, 11u);
  EXPECT_EQ((*trash)[0].deleted_ms, clock_.load());

  // Garbage collection leaves trashed contents alone, however long after the grace.
  clock_ += 5000;
  ASSERT_TRUE(drive_->CollectGarbage("alice").ok());
  auto restored = drive_->Restore("alice", (*trash)[0].id);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, "/docs/a.txt");
  EXPECT_EQ(*Read("alice", "/docs/a.txt"), "hello trash");
  EXPECT_TRUE(drive_->ListTrash("alice")->empty());
  EXPECT_EQ(Used("alice"), 11u);
  EXPECT_TRUE(absl::IsNotFound(drive_->Restore("alice", (*trash)[0].id).status()));
}

TEST_F(TrashTest, FolderGoesWithEverythingInsideAndComesBack) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/p").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/p/q").ok());
  ASSERT_TRUE(Write("alice", "/p/q/deep", "0123456789").ok());
  ASSERT_TRUE(Write("alice", "/p/top", "abc").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/p").ok());
  EXPECT_TRUE(Names("alice", "/").empty());
  auto trash = drive_->ListTrash("alice");
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_TRUE((*trash)[0].folder);
  EXPECT_EQ((*trash)[0].size, 13u);
  ASSERT_TRUE(drive_->Restore("alice", (*trash)[0].id).ok());
  EXPECT_EQ(*Read("alice", "/p/q/deep"), "0123456789");
  EXPECT_EQ(*Read("alice", "/p/top"), "abc");
}

TEST_F(TrashTest, RestoreBesideATakenNameAndIntoALostFolder) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/d").ok());
  ASSERT_TRUE(Write("alice", "/d/r.txt", "old").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/d/r.txt").ok());
  ASSERT_TRUE(Write("alice", "/d/r.txt", "new").ok());
  auto first = drive_->ListTrash("alice");
  auto restored = drive_->Restore("alice", (*first)[0].id);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, "/d/r (restored).txt");
  EXPECT_EQ(*Read("alice", "/d/r.txt"), "new");
  EXPECT_EQ(*Read("alice", "/d/r (restored).txt"), "old");

  // The folder it lived in was deleted for good meanwhile: made again.
  ASSERT_TRUE(drive_->Delete("alice", "/d/r.txt").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/d").ok());
  auto trash = drive_->ListTrash("alice");
  ASSERT_EQ(trash->size(), 2u);
  std::string file_id = (*trash)[1].path == "/d/r.txt" ? (*trash)[1].id : (*trash)[0].id;
  std::string folder_id = (*trash)[1].path == "/d" ? (*trash)[1].id : (*trash)[0].id;
  ASSERT_TRUE(drive_->Purge("alice", folder_id).ok());
  ASSERT_EQ(*drive_->Restore("alice", file_id), "/d/r.txt");
  EXPECT_EQ(*Read("alice", "/d/r.txt"), "new");
  EXPECT_EQ(Names("alice", "/d"), std::vector<std::string>{"r.txt"});
}

TEST_F(TrashTest, PurgeAndEmptyFreeTheQuotaAndTheChunks) {
  ASSERT_TRUE(Write("alice", "/a", "12345678").ok());
  std::string version = drive_->Stat("alice", "/a")->etag;
  ASSERT_TRUE(drive_->CreateFolder("alice", "/f").ok());
  ASSERT_TRUE(Write("alice", "/f/b", "1234").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/a").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/f").ok());
  EXPECT_EQ(Used("alice"), 12u);
  auto trash = drive_->ListTrash("alice");
  std::string a_id = (*trash)[0].path == "/a" ? (*trash)[0].id : (*trash)[1].id;
  ASSERT_TRUE(drive_->Purge("alice", a_id).ok());
  EXPECT_EQ(Used("alice"), 4u);
  EXPECT_TRUE(absl::IsNotFound(drive_->Purge("alice", a_id)));
  EXPECT_EQ(*drive_->EmptyTrash("alice"), 1);
  EXPECT_EQ(Used("alice"), 0u);
  EXPECT_TRUE(drive_->ListTrash("alice")->empty());
  clock_ += 1000;
  ASSERT_TRUE(drive_->CollectGarbage("alice").ok());
  EXPECT_EQ(ChunksOf("alice", version), 0);
}

TEST_F(TrashTest, TrashCountsTowardTheQuota) {
  ASSERT_TRUE(drive_->SetQuota("alice", 10).ok());
  ASSERT_TRUE(Write("alice", "/a", "12345678").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/a").ok());
  EXPECT_TRUE(absl::IsResourceExhausted(Write("alice", "/b", "12345")));
  ASSERT_TRUE(drive_->EmptyTrash("alice").ok());
  EXPECT_TRUE(Write("alice", "/b", "12345").ok());
}

TEST_F(TrashTest, ItemsExpireWithTheCollector) {
  ASSERT_TRUE(Write("alice", "/old", "1234").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/old").ok());
  clock_ += kRetentionMs / 2;
  ASSERT_TRUE(Write("alice", "/young", "56").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/young").ok());
  clock_ += kRetentionMs / 2;
  ASSERT_TRUE(drive_->CollectGarbage("alice").ok());
  auto trash = drive_->ListTrash("alice");
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_EQ((*trash)[0].path, "/young");
  EXPECT_EQ(Used("alice"), 2u);
}

TEST_F(TrashTest, UsersSeeOnlyTheirOwnTrash) {
  ASSERT_TRUE(Write("alice", "/secret", "s").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/secret").ok());
  std::string id = (*drive_->ListTrash("alice"))[0].id;
  EXPECT_TRUE(drive_->ListTrash("bob")->empty());
  EXPECT_TRUE(absl::IsNotFound(drive_->Restore("bob", id).status()));
  EXPECT_TRUE(absl::IsNotFound(drive_->Purge("bob", id)));
  EXPECT_EQ(drive_->ListTrash("alice")->size(), 1u);
}

}  // namespace
}  // namespace penncloud::drive
