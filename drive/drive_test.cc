// Tree operations: folders, listing, move, copy, delete, properties, isolation, quota.
#include "drive/drive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "drive/test_util.h"

namespace penncloud::drive {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST_F(DriveTest, NewUserHasEmptyRoot) {
  auto root = drive_->Stat("alice", "/");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_TRUE(root->folder);
  EXPECT_THAT(Names("alice", "/"), IsEmpty());
}

TEST_F(DriveTest, FoldersAndFilesAreListedWithMetadata) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/docs").ok());
  ASSERT_TRUE(Write("alice", "/docs/a.txt", "hello world").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/docs/sub").ok());
  EXPECT_THAT(Names("alice", "/"), ElementsAre("docs/"));
  EXPECT_THAT(Names("alice", "/docs"), ElementsAre("a.txt", "sub/"));
  auto st = drive_->Stat("alice", "/docs/a.txt");
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->folder);
  EXPECT_EQ(st->size, 11u);
  EXPECT_EQ(st->content_type, "text/plain");
  EXPECT_EQ(st->modified_ms, clock_.load());
  EXPECT_EQ(st->etag.size(), 32u);
  EXPECT_EQ(*Read("alice", "/docs/a.txt"), "hello world");
}

TEST_F(DriveTest, ClearErrors) {
  EXPECT_EQ(drive_->CreateFolder("alice", "/x/y").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(drive_->CreateFolder("alice", "/x").ok());
  EXPECT_EQ(drive_->CreateFolder("alice", "/x").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(drive_->CreateFolder("alice", "/").code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(Write("alice", "/f", "data").ok());
  EXPECT_EQ(drive_->CreateFolder("alice", "/f/sub").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(drive_->List("alice", "/f").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(drive_->Open("alice", "/x").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Write("alice", "/x", "data").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(drive_->Stat("alice", "/nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(drive_->Delete("alice", "/").code(), absl::StatusCode::kFailedPrecondition);
  auto bad = drive_->CreateFolder("alice", "/a\x01");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("control"), std::string::npos) << bad.message();
}

TEST_F(DriveTest, TraversalCannotEscape) {
  ASSERT_TRUE(Write("bob", "/secret", "bob's").ok());
  for (const char* path : {"/../bob/secret", "/..", "/a/../../bob", "/./secret"}) {
    EXPECT_EQ(drive_->Stat("alice", path).status().code(), absl::StatusCode::kInvalidArgument)
        << path;
    EXPECT_EQ(Write("alice", path, "x").code(), absl::StatusCode::kInvalidArgument) << path;
  }
  EXPECT_EQ(drive_->Stat("alice/../bob", "/secret").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DriveTest, UsersAreIsolated) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/private").ok());
  ASSERT_TRUE(Write("alice", "/private/diary", "dear diary").ok());
  EXPECT_THAT(Names("bob", "/"), IsEmpty());
  EXPECT_EQ(drive_->Stat("bob", "/private/diary").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Read("bob", "/private/diary").status().code(), absl::StatusCode::kNotFound);
  // Bob writing the same path creates his own file and leaves Alice's alone.
  ASSERT_TRUE(drive_->CreateFolder("bob", "/private").ok());
  ASSERT_TRUE(Write("bob", "/private/diary", "bob").ok());
  EXPECT_EQ(*Read("alice", "/private/diary"), "dear diary");
  EXPECT_EQ(drive_->Delete("bob", "/private").code(), absl::StatusCode::kOk);
  EXPECT_EQ(*Read("alice", "/private/diary"), "dear diary");
}

TEST_F(DriveTest, RenameAndMoveKeepContents) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/a").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/b").ok());
  ASSERT_TRUE(Write("alice", "/a/one", "111111111").ok());
  ASSERT_TRUE(drive_->Move("alice", "/a/one", "/a/uno", false).ok());
  EXPECT_THAT(Names("alice", "/a"), ElementsAre("uno"));
  ASSERT_TRUE(drive_->Move("alice", "/a", "/b/a2", false).ok());
  EXPECT_THAT(Names("alice", "/"), ElementsAre("b/"));
  EXPECT_EQ(*Read("alice", "/b/a2/uno"), "111111111");
  EXPECT_EQ(drive_->Move("alice", "/nope", "/x", false).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(drive_->Move("alice", "/b", "/b/a2/inside", false).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(drive_->Move("alice", "/b", "/b", false).code(), absl::StatusCode::kOk);
}

TEST_F(DriveTest, MoveOverwriteOnlyWhenAsked) {
  ASSERT_TRUE(Write("alice", "/x", "xxxx").ok());
  ASSERT_TRUE(Write("alice", "/y", "yy").ok());
  EXPECT_EQ(drive_->Move("alice", "/x", "/y", false).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*Read("alice", "/y"), "yy");
  ASSERT_TRUE(drive_->Move("alice", "/x", "/y", true).ok());
  EXPECT_EQ(*Read("alice", "/y"), "xxxx");
  EXPECT_THAT(Names("alice", "/"), ElementsAre("y"));
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 4u);
}

TEST_F(DriveTest, DeleteFolderRecursivelyFreesEverything) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/t").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/t/u").ok());
  ASSERT_TRUE(Write("alice", "/t/u/f1", "0123456789").ok());
  ASSERT_TRUE(Write("alice", "/t/f2", "abc").ok());
  std::string v1 = drive_->Stat("alice", "/t/u/f1")->etag;
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 13u);
  ASSERT_TRUE(drive_->Delete("alice", "/t").ok());
  EXPECT_THAT(Names("alice", "/"), IsEmpty());
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 0u);
  EXPECT_EQ(ChunksOf("alice", v1), 3);  // still readable during the grace period
  clock_ += 1001;
  auto collected = drive_->CollectGarbage("alice");
  ASSERT_TRUE(collected.ok());
  EXPECT_EQ(*collected, 2);
  EXPECT_EQ(ChunksOf("alice", v1), 0);
  // Only the usage counter remains.
  EXPECT_EQ(kvs_.CellCount(), 1u);
}

TEST_F(DriveTest, CopyFileAndFolderTree) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/src").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/src/deep").ok());
  ASSERT_TRUE(Write("alice", "/src/deep/f", "the quick brown fox").ok());
  ASSERT_TRUE(Write("alice", "/src/g", "").ok());
  ASSERT_TRUE(drive_->PatchProperties("alice", "/src/g", {{"{urn:x}color", "blue"}}).ok());
  ASSERT_TRUE(drive_->Copy("alice", "/src", "/dst", false).ok());
  EXPECT_THAT(Names("alice", "/dst"), ElementsAre("deep/", "g"));
  EXPECT_EQ(*Read("alice", "/dst/deep/f"), "the quick brown fox");
  EXPECT_EQ(drive_->Stat("alice", "/dst/g")->dead_props.at("{urn:x}color"), "blue");
  EXPECT_NE(drive_->Stat("alice", "/dst/deep/f")->etag, drive_->Stat("alice", "/src/deep/f")->etag);
  // Copies are independent: changing one leaves the other.
  ASSERT_TRUE(Write("alice", "/src/deep/f", "changed").ok());
  EXPECT_EQ(*Read("alice", "/dst/deep/f"), "the quick brown fox");
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 19u + 7u);
  EXPECT_EQ(drive_->Copy("alice", "/src", "/src/deep/x", false).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(drive_->Copy("alice", "/src", "/dst", false).code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(drive_->Copy("alice", "/src/g", "/dst", true).ok());
  EXPECT_FALSE(drive_->Stat("alice", "/dst")->folder);
}

TEST_F(DriveTest, CopyBetweenDrivesChargesTheDestination) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/src").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/src/deep").ok());
  ASSERT_TRUE(Write("alice", "/src/deep/f", "the quick brown fox").ok());
  ASSERT_TRUE(Write("alice", "/src/g", "12345").ok());
  ASSERT_TRUE(drive_->PatchProperties("alice", "/src/g", {{"{urn:x}color", "blue"}}).ok());
  ASSERT_TRUE(drive_->CopyBetween("alice", "/src", "bob", "/src", false).ok());
  EXPECT_THAT(Names("bob", "/src"), ElementsAre("deep/", "g"));
  EXPECT_EQ(*Read("bob", "/src/deep/f"), "the quick brown fox");
  EXPECT_EQ(drive_->Stat("bob", "/src/g")->dead_props.at("{urn:x}color"), "blue");
  EXPECT_EQ(drive_->GetUsage("bob")->used_bytes, 19u + 5u);
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 19u + 5u);
  // Independent copies: bob's change leaves alice's file.
  ASSERT_TRUE(Write("bob", "/src/g", "changed").ok());
  EXPECT_EQ(*Read("alice", "/src/g"), "12345");
  EXPECT_EQ(drive_->CopyBetween("alice", "/src", "bob", "/src", false).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(drive_->CopyBetween("alice", "/nope", "bob", "/x", false).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(drive_->CopyBetween("alice", "/src/g", "bob", "/no/g", false).code(),
            absl::StatusCode::kNotFound);
  // The destination's quota, not the source's, bounds the copy.
  ASSERT_TRUE(drive_->SetQuota("carol", 10).ok());
  EXPECT_EQ(drive_->CopyBetween("alice", "/src/deep/f", "carol", "/f", false).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(drive_->CopyBetween("alice", "/src/g", "carol", "/g", false).ok());
}

TEST_F(DriveTest, PropertiesSetRemoveAndSurviveReplace) {
  ASSERT_TRUE(Write("alice", "/p", "1").ok());
  ASSERT_TRUE(drive_->PatchProperties("alice", "/p", {{"{a}x", "1"}, {"{a}y", "2"}}).ok());
  ASSERT_TRUE(drive_->PatchProperties("alice", "/p", {{"{a}x", std::nullopt}}).ok());
  ASSERT_TRUE(Write("alice", "/p", "2").ok());
  auto props = drive_->Stat("alice", "/p")->dead_props;
  EXPECT_EQ(props.size(), 1u);
  EXPECT_EQ(props["{a}y"], "2");
  EXPECT_EQ(drive_->PatchProperties("alice", "/none", {}).code(), absl::StatusCode::kNotFound);
}

TEST_F(DriveTest, QuotaIsEnforced) {
  ASSERT_TRUE(drive_->SetQuota("alice", 10).ok());
  ASSERT_TRUE(Write("alice", "/a", "123456").ok());
  EXPECT_EQ(Write("alice", "/b", "12345").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(drive_->Stat("alice", "/b").status().code(), absl::StatusCode::kNotFound);
  // Replacing a file counts only the difference.
  ASSERT_TRUE(Write("alice", "/a", "1234567890").ok());
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 10u);
  ASSERT_TRUE(drive_->Delete("alice", "/a").ok());
  ASSERT_TRUE(Write("alice", "/b", "12345").ok());
  EXPECT_EQ(drive_->GetUsage("bob")->used_bytes, 0u);
}

TEST_F(DriveTest, StoreOutageIsReportedNotHidden) {
  ASSERT_TRUE(Write("alice", "/f", "abcdefgh").ok());
  kvs_.SetUnavailable(true);
  EXPECT_EQ(drive_->Stat("alice", "/f").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Write("alice", "/f", "x").code(), absl::StatusCode::kUnavailable);
  kvs_.SetUnavailable(false);
  EXPECT_EQ(*Read("alice", "/f"), "abcdefgh");
}

}  // namespace
}  // namespace penncloud::drive
