// Snapshots received to disk (snapshot_file.h) and installed from there: larger than a
// chunk, with the receiver's memory at one chunk; a crash in the middle of the install; a
// download cut short.
#include "kvs/storage/snapshot_file.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/storage/replica_store.h"
#include "kvs/storage/store_test_fixture.h"

namespace penncloud::kvs::storage {
namespace {

pb::Command Put(uint64_t session, std::string row, std::string column, std::string value) {
  pb::Command c;
  c.set_op(pb::OP_PUT);
  c.set_session(session);
  c.set_seq(1);
  c.set_row(std::move(row));
  c.set_column(std::move(column));
  c.set_value(std::move(value));
  c.set_stamp_ms(5000);
  return c;
}

std::string Value(int i) {
  return std::string(1000, static_cast<char>('a' + i % 26)) + std::to_string(i);
}

class SnapshotFileTest : public StoreTest {
 protected:
  static constexpr int kCells = 1500;  // ~1.5 MB of values
  static constexpr size_t kChunkBytes = 64 << 10;

  void SetUp() override {
    StoreTest::SetUp();
    source_ = Open("source");
    uint64_t slot = 0;
    for (int i = 0; i < kCells; ++i) {
      ASSERT_TRUE(source_
                      ->Apply(++slot, Put(100 + i, absl::StrCat("row", i % 37),
                                          absl::StrCat("c", i), Value(i)))
                      .ok());
    }
  }

  // Streams the source's snapshot into a download in `target`'s inbox, one chunk at a
  // time (as the replica's fetch thread does); returns the directory.
  std::string Download(ReplicaStore& target, bool finish = true) {
    auto download = SnapshotDownload::Create(target.SnapshotInbox() + "/1");
    EXPECT_TRUE(download.ok());
    int chunks = 0;
    EXPECT_TRUE(source_
                    ->DumpSnapshot(kChunkBytes,
                                   [&](const pb::SnapshotChunk& c) {
                                     ++chunks;
                                     return (*download)->Add(c).ok();
                                   })
                    .ok());
    EXPECT_GT(chunks, 10);  // far larger than one chunk
    if (finish) {
      EXPECT_TRUE((*download)->Finish().ok());
    }
    return (*download)->dir();
  }

  void ExpectSourceData(ReplicaStore& store) {
    for (int i = 0; i < kCells; ++i) {
      auto v = store.Get(absl::StrCat("row", i % 37), absl::StrCat("c", i));
      ASSERT_TRUE(v.ok() && v->has_value()) << i;
      ASSERT_EQ(**v, Value(i)) << i;
    }
    EXPECT_EQ(store.AppliedSlot(), static_cast<uint64_t>(kCells));
    EXPECT_EQ(store.SessionRecords(), static_cast<uint64_t>(kCells));
    EXPECT_EQ(store.SessionClockNow().now_ms(), 5000);
    // The sessions came along: a retry of a write the source applied is a duplicate.
    auto retry = store.Apply(kCells + 1, Put(100, "row0", "c0", "again"));
    ASSERT_TRUE(retry.ok());
    EXPECT_TRUE(retry->duplicate);
  }

  std::unique_ptr<ReplicaStore> source_;
};

TEST_F(SnapshotFileTest, ASnapshotOfManyChunksIsInstalledFromDisk) {
  auto target = Open("target");
  ASSERT_TRUE(target->Apply(1, Put(1, "stale", "c", "x")).ok());
  const std::string dir = Download(*target);
  ASSERT_TRUE(target->InstallSnapshot(dir, "snapshot_meta", "m").ok());
  EXPECT_FALSE(std::filesystem::exists(dir));  // the download is removed once installed
  EXPECT_FALSE(target->Get("stale", "c")->has_value());
  EXPECT_EQ(target->Meta("snapshot_meta"), "m");
  ExpectSourceData(*target);
}

TEST_F(SnapshotFileTest, ACrashInTheMiddleOfTheInstallIsFinishedAtOpen) {
  auto target = Open("target");
  ASSERT_TRUE(target->Apply(1, Put(1, "stale", "c", "x")).ok());
  const std::string dir = Download(*target);
  target->CrashNextInstallForTest();
  EXPECT_FALSE(target->InstallSnapshot(dir, "snapshot_meta", "m").ok());
  target.reset();  // the process dies here: old state cleared, new one not yet in
  target = Open("target");
  ASSERT_NE(target, nullptr);
  EXPECT_FALSE(target->Get("stale", "c")->has_value());
  EXPECT_EQ(target->Meta("snapshot_meta"), "m");
  ExpectSourceData(*target);
}

TEST_F(SnapshotFileTest, ADownloadCutShortIsRefusedAndTheOldStateStays) {
  auto target = Open("target");
  ASSERT_TRUE(target->Apply(1, Put(1, "stale", "c", "x")).ok());
  const std::string dir = Download(*target, /*finish=*/false);
  absl::Status s = target->InstallSnapshot(dir, "snapshot_meta", "m");
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_EQ(**target->Get("stale", "c"), "x");
  EXPECT_EQ(target->AppliedSlot(), 1u);
  target.reset();
  target = Open("target");  // and nothing to redo at the next open
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(**target->Get("stale", "c"), "x");
}

}  // namespace
}  // namespace penncloud::kvs::storage
