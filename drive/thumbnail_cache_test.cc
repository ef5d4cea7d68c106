#include "drive/thumbnail_cache.h"

#include "drive/drive.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::drive {
namespace {

TEST(ThumbnailCacheTest, KeptPerVersionAndSizeAndDeletedWithTheVersion) {
  kvs::MemoryClient store;
  ThumbnailCache cache(&store);
  auto miss = cache.Get("alice", "v1", 256);
  ASSERT_TRUE(miss.ok());
  EXPECT_EQ(*miss, std::nullopt);

  ASSERT_TRUE(cache.Put("alice", "v1", 256, "jpeg-256").ok());
  ASSERT_TRUE(cache.Put("alice", "v1", 64, "jpeg-64").ok());
  ASSERT_TRUE(cache.Put("alice", "v2", 256, "other").ok());
  EXPECT_EQ(*cache.Get("alice", "v1", 256), "jpeg-256");
  EXPECT_EQ(*cache.Get("alice", "v1", 64), "jpeg-64");
  EXPECT_EQ(*cache.Get("bob", "v1", 256), std::nullopt);  // rows are per user

  ASSERT_TRUE(cache.DeleteAll("alice", "v1").ok());
  EXPECT_EQ(*cache.Get("alice", "v1", 256), std::nullopt);
  EXPECT_EQ(*cache.Get("alice", "v1", 64), std::nullopt);
  EXPECT_EQ(*cache.Get("alice", "v2", 256), "other");
}

TEST(ThumbnailCacheTest, DeleteAllWalksEverySize) {
  kvs::MemoryClient store;
  ThumbnailCache cache(&store);
  for (int side = 32; side <= 1024; ++side) ASSERT_TRUE(cache.Put("u", "v", side, "x").ok());
  ASSERT_TRUE(cache.DeleteAll("u", "v").ok());
  auto left = store.List("drive/u/thumb/v", kvs::ListOptions{.after = "", .limit = 10});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->cells.empty());
}

TEST(ThumbnailCacheTest, OversizedThumbnailsAreNotKept) {
  kvs::MemoryClient store;
  ThumbnailCache cache(&store);
  ASSERT_TRUE(cache.Put("u", "v", 1024, std::string(kMaxCachedThumbnailBytes + 1, 'x')).ok());
  EXPECT_EQ(*cache.Get("u", "v", 1024), std::nullopt);
}

// The collector deletes a version's thumbnails with its chunks: a deleted or replaced file
// leaves no cache behind.
TEST(ThumbnailCacheTest, CollectorDeletesThumbnailsWithTheVersion) {
  kvs::MemoryClient store;
  Options options;
  options.trash_retention_ms = 0;  // deletes are final
  options.max_versions = 0;        // replaced contents go straight to garbage
  options.garbage_grace_ms = 0;
  Drive drive(&store, options);
  ThumbnailCache cache(&store);
  auto write = [&](const std::string& bytes) {
    auto upload = drive.BeginUpload("alice", "/a.png", {});
    EXPECT_TRUE(upload.ok());
    EXPECT_TRUE((*upload)->Append(bytes).ok());
    auto entry = (*upload)->Commit();
    EXPECT_TRUE(entry.ok());
    return entry->etag;
  };
  std::string first = write("first");
  ASSERT_TRUE(cache.Put("alice", first, 256, "thumb of first").ok());
  std::string second = write("second");  // replaces: `first` becomes garbage
  ASSERT_TRUE(cache.Put("alice", second, 256, "thumb of second").ok());
  ASSERT_TRUE(drive.CollectGarbage("alice").ok());
  EXPECT_EQ(*cache.Get("alice", first, 256), std::nullopt);
  EXPECT_EQ(*cache.Get("alice", second, 256), "thumb of second");
  ASSERT_TRUE(drive.Delete("alice", "/a.png").ok());
  ASSERT_TRUE(drive.CollectGarbage("alice").ok());
  EXPECT_EQ(*cache.Get("alice", second, 256), std::nullopt);
}

}  // namespace
}  // namespace penncloud::drive
