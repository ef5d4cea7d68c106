// The replica store on a disk that fails (fault_fs.h), as a replica's disk can: a sync that
// returns EIO, a full disk, a power cut that loses what was not synced, and a flipped bit
// in the write-ahead log or in an SST. Whatever the store acknowledged (a write that
// returned OK with sync) must survive; nothing else may be claimed; damage must be
// reported as DATA_LOSS, never read as "nothing there".
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/storage/disk.h"
#include "kvs/storage/fault_fs.h"
#include "kvs/storage/replica_store.h"
#include "kvs/storage/snapshot_file.h"
#include "kvs/storage/store_test_fixture.h"

namespace penncloud::kvs::storage {
namespace {

namespace fs = std::filesystem;

constexpr int kCrashed = 42;

LogWrite Entry(uint64_t slot) {
  LogWrite w;
  w.entries.emplace_back(slot, absl::StrCat("entry-", slot, std::string(200, 'x')));
  w.hard_state = absl::StrCat("hs-", slot);
  return w;
}

// Flips one bit of `path` at `offset`.
void FlipBit(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  f.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x10);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&byte, 1);
  ASSERT_TRUE(f.good()) << path;
}

// The largest file of `dir` whose name ends in `suffix` ("" if none).
std::string Largest(const std::string& dir, const std::string& suffix) {
  std::string best;
  uint64_t best_size = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!name.ends_with(suffix)) continue;
    if (best.empty() || e.file_size() > best_size) {
      best = e.path().string();
      best_size = e.file_size();
    }
  }
  return best;
}

class DiskFaultTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    UseFileSystem(fault_);
    OnCorruption([this](const absl::Status&) { corruptions_++; });
  }
  void TearDown() override {
    OnCorruption(nullptr);
    UseFileSystem(rocksdb::FileSystem::Default());
    StoreTest::TearDown();
  }

  // Runs `body` in a child process on a fault file system of its own, which then loses
  // everything not synced and exits, as at a power cut. The parent goes on with the disk
  // the cut left.
  void InChildThenCrash(const std::function<void(FaultFileSystem&)>& body) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto fault = std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default());
      UseFileSystem(fault);
      body(*fault);
      fault->CrashProcess(kCrashed);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    ASSERT_EQ(WEXITSTATUS(status), kCrashed) << "the child failed a step (exit code)";
  }

  std::shared_ptr<FaultFileSystem> fault_ =
      std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default());
  std::atomic<int> corruptions_{0};
};

TEST_F(DiskFaultTest, AFailedFsyncIsAnErrorAndOnlyAcknowledgedWritesSurvive) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (uint64_t slot = 1; slot <= 10; ++slot) ASSERT_TRUE(store->Persist(Entry(slot)).ok());
  fault_->SetFaults({.sync_fails = true});
  absl::Status failed = store->Persist(Entry(11));
  EXPECT_FALSE(failed.ok()) << "a write whose fsync failed was acknowledged";
  EXPECT_GT(fault_->failed_syncs(), 0u);
  // The store stays stopped even once syncs work again: what the failed fsync covered may
  // be gone, so nothing after it may be acknowledged on top of it.
  fault_->SetFaults({});
  EXPECT_FALSE(store->Persist(Entry(12)).ok());
  store.reset();
  ASSERT_TRUE(fault_->DropUnsyncedData().ok());  // and then the machine loses power

  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->LogBounds(), std::make_pair(uint64_t{1}, uint64_t{10}));
  EXPECT_EQ(store->HardState(), "hs-10");
  ASSERT_TRUE(store->Persist(Entry(11)).ok());
}

TEST_F(DiskFaultTest, UnsyncedWritesAreLostAtACrashAndSyncedOnesKept) {
  const std::string dir = dir_ + "/db";
  InChildThenCrash([&](FaultFileSystem&) {
    auto store = ReplicaStore::Open(dir, FirstBytePosition);
    if (!store.ok()) _exit(1);
    for (uint64_t slot = 1; slot <= 20; ++slot) {
      if (!(*store)->Persist(Entry(slot)).ok()) _exit(2);
    }
    if (!(*store)->ApplySlot(1, {PutCommand("applied", "v")}).ok()) _exit(3);
    if (!(*store)->Persist(Entry(20)).ok()) _exit(4);  // a synced write covers the apply
    for (uint64_t slot = 21; slot <= 30; ++slot) {
      if (!(*store)->Persist(Entry(slot), /*sync=*/false).ok()) _exit(5);
    }
    if (!(*store)->ApplySlot(2, {PutCommand("unsynced", "v")}).ok()) _exit(6);
    // The crash comes with the store still open: nothing is closed or flushed.
    (void)store->release();
  });
  UseFileSystem(rocksdb::FileSystem::Default());
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->LogBounds(), std::make_pair(uint64_t{1}, uint64_t{20}));
  EXPECT_EQ(store->HardState(), "hs-20");
  EXPECT_EQ(store->AppliedSlot(), 1u);
  EXPECT_EQ(*store->Get("applied", "c"), std::optional<std::string>("v"));
  EXPECT_EQ(*store->Get("unsynced", "c"), std::nullopt);
}

TEST_F(DiskFaultTest, NoSpaceRefusesWritesWithAClearErrorAndTheStoreRecoversWhenSpaceReturns) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (uint64_t slot = 1; slot <= 5; ++slot) ASSERT_TRUE(store->Persist(Entry(slot)).ok());
  fault_->SetFaults({.no_space = true});
  absl::Status full = store->Persist(Entry(6));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_NE(full.message().find("out of disk space"), std::string::npos) << full;
  store.reset();
  // A restart while the disk is still full is refused as clearly.
  auto again = ReplicaStore::Open(dir_ + "/db", FirstBytePosition);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kResourceExhausted) << again.status();

  fault_->SetFaults({});
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->LogBounds(), std::make_pair(uint64_t{1}, uint64_t{5}));
  ASSERT_TRUE(store->Persist(Entry(6)).ok());
  EXPECT_EQ(store->HardState(), "hs-6");
}

TEST_F(DiskFaultTest, AFlippedBitInALogRecordFailsTheOpenAsDataLoss) {
  const std::string dir = dir_ + "/db";
  InChildThenCrash([&](FaultFileSystem&) {
    auto store = ReplicaStore::Open(dir, FirstBytePosition);
    if (!store.ok()) _exit(1);
    for (uint64_t slot = 1; slot <= 50; ++slot) {
      if (!(*store)->Persist(Entry(slot)).ok()) _exit(2);
    }
    (void)store->release();
  });
  const std::string wal = Largest(dir, ".log");
  ASSERT_FALSE(wal.empty());
  // The middle of the log: whole, synced records on both sides. Cutting the log there, as
  // a torn tail is cut, would forget acknowledged entries and the hard state's promise.
  FlipBit(wal, fs::file_size(wal) / 2);
  UseFileSystem(rocksdb::FileSystem::Default());
  auto store = ReplicaStore::Open(dir, FirstBytePosition);
  ASSERT_FALSE(store.ok()) << "a damaged log opened; hard state " << *(*store)->HardState();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_GT(corruptions_.load(), 0);
}

TEST_F(DiskFaultTest, AFlippedBitInAnSstIsDataLossWhenRead) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    std::vector<pb::Command> puts;
    for (int i = 0; i < 64; ++i) {
      // Values that do not compress, so the data family's SST is the largest file.
      std::string value(4096, '\0');
      for (size_t j = 0; j < value.size(); ++j)
        value[j] = static_cast<char>((i * 7919 + j * 31) ^ (j >> 3));
      puts.push_back(PutCommand(absl::StrCat("row", i), value));
    }
    ASSERT_TRUE(store->ApplySlot(1, puts).ok());
    ASSERT_TRUE(store->Persist(Entry(1)).ok());
  }
  Open().reset();  // the reopen writes the recovered log into SST files
  const std::string sst = Largest(dir_ + "/db", ".sst");
  ASSERT_FALSE(sst.empty());
  FlipBit(sst, 100);  // inside the first data block
  auto store = ReplicaStore::Open(dir_ + "/db", FirstBytePosition);
  int lost = 0;
  if (!store.ok()) {
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
    ++lost;
  } else {
    for (int i = 0; i < 64; ++i) {
      auto got = (*store)->Get(absl::StrCat("row", i), "c");
      if (got.ok()) continue;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
      ++lost;
    }
  }
  EXPECT_GT(lost, 0) << "a flipped bit in " << sst << " went unnoticed";
  EXPECT_GT(corruptions_.load(), 0);
}

// Cells no request reads: a flipped bit in the SST holding them, or in a blob file, is
// found by a scrub, reported, and nothing else is needed to find it.
TEST_F(DiskFaultTest, AScrubFindsAFlippedBitNoReadHasMet) {
  for (const auto& [suffix, value_bytes] : {std::pair(".sst", 4096), std::pair(".blob", 70000)}) {
    SCOPED_TRACE(suffix);
    penncloud::testing::RemoveTree(dir_ + "/db");
    corruptions_ = 0;
    {
      auto store = Open();
      ASSERT_NE(store, nullptr);
      std::vector<pb::Command> puts;
      for (int i = 0; i < 16; ++i) {
        std::string value(value_bytes, '\0');  // does not compress
        for (size_t j = 0; j < value.size(); ++j)
          value[j] = static_cast<char>((i * 7919 + j * 31) ^ (j >> 3));
        puts.push_back(PutCommand(absl::StrCat("row", i), value));
      }
      ASSERT_TRUE(store->ApplySlot(1, puts).ok());
      ASSERT_TRUE(store->Persist(Entry(1)).ok());
    }
    Open().reset();  // the reopen writes the recovered log into SST (and blob) files
    {
      auto store = Open();
      ASSERT_NE(store, nullptr);
      EXPECT_TRUE(store->Scrub([](size_t) { return true; }).ok());  // whole: nothing to find
    }
    EXPECT_EQ(corruptions_.load(), 0);
    const std::string file = Largest(dir_ + "/db", suffix);
    ASSERT_FALSE(file.empty());
    FlipBit(file, 1000);  // inside the first data block, or the first blob
    auto store = ReplicaStore::Open(dir_ + "/db", FirstBytePosition);
    ASSERT_TRUE(store.ok()) << store.status();
    absl::Status scrubbed = (*store)->Scrub([](size_t) { return true; });
    EXPECT_EQ(scrubbed.code(), absl::StatusCode::kDataLoss) << scrubbed;
    EXPECT_GT(corruptions_.load(), 0);
  }
}

TEST_F(DiskFaultTest, ASnapshotDownloadIsNotCompleteUntilItsFilesAreSynced) {
  auto download = SnapshotDownload::Create(dir_ + "/download");
  ASSERT_TRUE(download.ok()) << download.status();
  pb::SnapshotChunk chunk;
  chunk.set_slot(7);
  chunk.add_keys("k");
  chunk.add_values("v");
  chunk.add_families(0);
  chunk.set_last(true);
  ASSERT_TRUE((*download)->Add(chunk).ok());
  fault_->SetFaults({.sync_fails = true});
  EXPECT_FALSE((*download)->Finish().ok());
  EXPECT_GT(fault_->failed_syncs(), 0u);
  fault_->SetFaults({});
  ASSERT_TRUE(fault_->DropUnsyncedData().ok());
  EXPECT_FALSE(ReadSnapshotDir(dir_ + "/download").ok());
}

}  // namespace
}  // namespace penncloud::kvs::storage
