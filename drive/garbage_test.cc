// Collection: grace periods, abandoned uploads, and the race between a slow uploader and
// the collector (exactly one of them may win).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "drive/drive.h"
#include "drive/test_util.h"

namespace penncloud::drive {
namespace {

TEST_F(DriveTest, ReplacedVersionCollectedOnlyAfterGrace) {
  ASSERT_TRUE(Write("alice", "/f", "version one").ok());
  std::string v1 = drive_->Stat("alice", "/f")->etag;
  ASSERT_TRUE(Write("alice", "/f", "version two").ok());
  EXPECT_EQ(*drive_->CollectGarbage("alice"), 0);
  EXPECT_EQ(ChunksOf("alice", v1), 3);
  clock_ += 1000;
  EXPECT_EQ(*drive_->CollectGarbage("alice"), 1);
  EXPECT_EQ(ChunksOf("alice", v1), 0);
  EXPECT_EQ(*Read("alice", "/f"), "version two");
}

TEST_F(DriveTest, AbandonedUploadIsCollectedAfterTimeout) {
  ASSERT_TRUE(Write("alice", "/f", "kept").ok());
  std::string version;
  {
    auto upload = drive_->BeginUpload("alice", "/f");
    ASSERT_TRUE(upload.ok());
    ASSERT_TRUE((*upload)->Append("0123456789abcdef").ok());
    version = (*upload)->version_for_test();
    // A crashed frontend never calls Abort: simulate by leaking the object.
    (void)upload->release();
  }
  // Its last chunk writes were still under way; wait for them to land.
  for (int i = 0; i < 200 && ChunksOf("alice", version) < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(ChunksOf("alice", version), 4);
  clock_ += 9000;
  EXPECT_EQ(*drive_->CollectGarbage("alice"), 0);
  EXPECT_EQ(ChunksOf("alice", version), 4);
  clock_ += 1000;
  EXPECT_EQ(*drive_->CollectGarbage("alice"), 1);
  EXPECT_EQ(ChunksOf("alice", version), 0);
  EXPECT_EQ(*Read("alice", "/f"), "kept");
}

TEST_F(DriveTest, SlowUploadKeepsItselfAlive) {
  auto upload = drive_->BeginUpload("alice", "/slow");
  ASSERT_TRUE(upload.ok());
  for (int i = 0; i < 10; ++i) {
    clock_ += 3000;  // longer than the timeout in total, but the uploader keeps touching
    ASSERT_TRUE((*upload)->Append("abcd").ok());
    EXPECT_EQ(*drive_->CollectGarbage("alice"), 0);
  }
  ASSERT_TRUE((*upload)->Commit().ok());
  EXPECT_EQ(Read("alice", "/slow")->size(), 40u);
}

TEST_F(DriveTest, CollectorWinsOverStalledUploaderWhichThenFails) {
  ASSERT_TRUE(Write("alice", "/f", "kept").ok());
  auto upload = drive_->BeginUpload("alice", "/f");
  ASSERT_TRUE(upload.ok());
  ASSERT_TRUE((*upload)->Append("abcdefgh").ok());
  clock_ += 10000;
  EXPECT_EQ(*drive_->CollectGarbage("alice"), 1);
  EXPECT_EQ((*upload)->Commit().status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(*Read("alice", "/f"), "kept");
  EXPECT_EQ(ChunksOf("alice", (*upload)->version_for_test()), 0);
}

TEST_F(DriveTest, CollectorDoesNotTouchTheLiveVersion) {
  ASSERT_TRUE(Write("alice", "/f", "live data").ok());
  std::string live = drive_->Stat("alice", "/f")->etag;
  clock_ += 100000;
  EXPECT_EQ(*drive_->CollectGarbage("alice"), 0);
  EXPECT_EQ(ChunksOf("alice", live), 3);
}

TEST(DriveBackground, CollectorThreadRunsAfterWrites) {
  kvs::MemoryClient kvs;
  Options options;
  options.chunk_bytes = 4;
  options.garbage_grace_ms = 0;
  options.background_collection = true;
  options.trash_retention_ms = 0;  // the delete is final
  Drive drive(&kvs, options);
  auto up = drive.BeginUpload("alice", "/f");
  ASSERT_TRUE((*up)->Append("0123456789").ok());
  std::string version = (*up)->version_for_test();
  ASSERT_TRUE((*up)->Commit().ok());
  ASSERT_TRUE(drive.Delete("alice", "/f").ok());
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = !kvs.Get(keys::ChunkRow("alice", version, 0), keys::kChunkColumn).ok();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace penncloud::drive
