// Versions: a replaced content is kept (the newest few, for a while), listed, read and
// restored, and counts toward the quota.
#include <gtest/gtest.h>

#include "drive/drive.h"
#include "drive/test_util.h"

namespace penncloud::drive {
namespace {

class VersionsTest : public DriveTest {
 protected:
  VersionsTest() : DriveTest(/*chunk_bytes=*/4, /*recovery=*/true) {}

  absl::StatusOr<std::string> ReadVersion(const std::string& path, const std::string& id) {
    auto reader = drive_->OpenVersion("alice", path, id);
    if (!reader.ok()) return reader.status();
    std::string out;
    for (int i = 0; i < 1000; ++i) {
      auto piece = (*reader)->Next();
      if (!piece.ok()) return piece.status();
      if (piece->empty()) return out;
      out += *piece;
    }
    return absl::InternalError("reader never ended");
  }
  uint64_t Used() { return drive_->GetUsage("alice")->used_bytes; }
};

TEST_F(VersionsTest, ReplacingKeepsTheOldContentNewestFirst) {
  ASSERT_TRUE(Write("alice", "/f", "one").ok());
  clock_ += 10;
  ASSERT_TRUE(Write("alice", "/f", "two!").ok());
  clock_ += 10;
  ASSERT_TRUE(Write("alice", "/f", "three").ok());
  auto versions = drive_->ListVersions("alice", "/f");
  ASSERT_TRUE(versions.ok()) << versions.status();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].size, 4u);
  EXPECT_EQ((*versions)[1].size, 3u);
  EXPECT_EQ(*ReadVersion("/f", (*versions)[0].id), "two!");
  EXPECT_EQ(*ReadVersion("/f", (*versions)[1].id), "one");
  EXPECT_EQ(*Read("alice", "/f"), "three");
  EXPECT_EQ(Used(), 12u);  // versions count toward the quota
  EXPECT_TRUE(absl::IsNotFound(ReadVersion("/f", "nope").status()));
}

TEST_F(VersionsTest, RestoreKeepsTheCurrentOneAsAVersion) {
  ASSERT_TRUE(Write("alice", "/f", "first").ok());
  clock_ += 10;
  ASSERT_TRUE(Write("alice", "/f", "second").ok());
  std::string old_id = (*drive_->ListVersions("alice", "/f"))[0].id;
  clock_ += 10;
  auto info = drive_->RestoreVersion("alice", "/f", old_id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(*Read("alice", "/f"), "first");
  auto versions = drive_->ListVersions("alice", "/f");
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ(*ReadVersion("/f", (*versions)[0].id), "second");
  EXPECT_EQ(Used(), 11u);
  EXPECT_TRUE(absl::IsNotFound(drive_->RestoreVersion("alice", "/f", old_id).status()));
}

TEST_F(VersionsTest, OnlyTheNewestAreKeptAndOldOnesExpire) {
  for (int i = 0; i < 6; ++i) {
    clock_ += 10;
    ASSERT_TRUE(Write("alice", "/f", std::string(i + 1, 'x')).ok());
  }
  auto versions = drive_->ListVersions("alice", "/f");
  ASSERT_EQ(versions->size(), 3u);  // max_versions in the fixture
  EXPECT_EQ((*versions)[0].size, 5u);
  EXPECT_EQ((*versions)[2].size, 3u);
  EXPECT_EQ(Used(), 6u + 5 + 4 + 3);
  clock_ += kRetentionMs;
  ASSERT_TRUE(drive_->CollectGarbage("alice").ok());
  EXPECT_TRUE(drive_->ListVersions("alice", "/f")->empty());
  EXPECT_EQ(Used(), 6u);
}

TEST_F(VersionsTest, VersionsFollowAMoveAndGoWithAPurge) {
  ASSERT_TRUE(Write("alice", "/f", "aaaa").ok());
  ASSERT_TRUE(Write("alice", "/f", "bbbbbb").ok());
  ASSERT_TRUE(drive_->Move("alice", "/f", "/g", false).ok());
  ASSERT_EQ(drive_->ListVersions("alice", "/g")->size(), 1u);
  ASSERT_TRUE(drive_->Delete("alice", "/g").ok());
  EXPECT_EQ(Used(), 10u);
  ASSERT_TRUE(drive_->EmptyTrash("alice").ok());
  EXPECT_EQ(Used(), 0u);
}

TEST_F(VersionsTest, AReplacementThatFitsOnlyWithoutTheOldOneDropsIt) {
  ASSERT_TRUE(drive_->SetQuota("alice", 10).ok());
  ASSERT_TRUE(Write("alice", "/f", "123456").ok());
  ASSERT_TRUE(Write("alice", "/f", "abcdefg").ok());
  EXPECT_TRUE(drive_->ListVersions("alice", "/f")->empty());
  EXPECT_EQ(Used(), 7u);
  ASSERT_TRUE(Write("alice", "/f", "xyz").ok());
  EXPECT_EQ(drive_->ListVersions("alice", "/f")->size(), 1u);
  EXPECT_EQ(Used(), 10u);
}

TEST_F(VersionsTest, FoldersHaveNoVersionsAndOthersCannotSeeThem) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/d").ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(drive_->ListVersions("alice", "/d").status()));
  ASSERT_TRUE(Write("alice", "/f", "1").ok());
  ASSERT_TRUE(Write("alice", "/f", "2").ok());
  std::string id = (*drive_->ListVersions("alice", "/f"))[0].id;
  EXPECT_TRUE(absl::IsNotFound(drive_->ListVersions("bob", "/f").status()));
  EXPECT_TRUE(absl::IsNotFound(drive_->OpenVersion("bob", "/f", id).status()));
}

}  // namespace
}  // namespace penncloud::drive
