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

  // A power cut with `store` open. In-process rather than InChildThenCrash, whose forked
  // child has none of RocksDB's background threads (they stay in the parent), so its
  // flushes would never run. The store closes on a disk whose every sync fails, so the
  // flush of its close makes nothing durable, then only synced bytes remain.
  void PowerCut(std::unique_ptr<ReplicaStore>& store) {
    fault_->SetFaults({.sync_fails = true});
    store.reset();
    ASSERT_TRUE(fault_->DropUnsyncedData().ok());
    fault_->SetFaults({});
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
    // A synced write covers the log, not the apply, which skips the write-ahead log: the
    // log entry is its durable copy, replayed after the crash.
    if (!(*store)->Persist(Entry(20)).ok()) _exit(4);
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
  EXPECT_EQ(store->AppliedSlot(), 0u);
  EXPECT_EQ(*store->Get("applied", "c"), std::nullopt);
  EXPECT_EQ(*store->Get("unsynced", "c"), std::nullopt);
}

// Slot `slot` of a counter chain: one session moves the counter from slot - 1 to slot with
// a CPut (sequence `slot`), and a large incompressible value fills the data family's
// memtable, so RocksDB flushes on its own as well. Applying a slot twice fails its CPut,
// and a session record ahead of the cells makes its replay a duplicate: both show.
std::vector<pb::Command> CounterSlot(uint64_t slot) {
  pb::Command step;
  step.set_op(pb::OP_CPUT);
  step.set_session(7);
  step.set_seq(slot);
  step.set_row("counter");
  step.set_column("c");
  step.set_value(absl::StrCat(slot));
  if (slot == 1) {
    step.set_expect_absent(true);
  } else {
    step.set_expected(absl::StrCat(slot - 1));
  }
  std::string filler(512 << 10, '\0');
  for (size_t j = 0; j < filler.size(); ++j) {
    filler[j] = static_cast<char>((slot * 7919 + j * 31) ^ (j >> 5));
  }
  pb::Command fill = PutCommand(absl::StrCat("fill", slot % 8), filler);
  fill.set_session(8);
  fill.set_seq(slot);
  return {step, fill};
}

// Persists and applies slots [from, to] of the counter chain; false on any failure or a
// CPut that did not succeed.
bool RunCounter(ReplicaStore& store, uint64_t from, uint64_t to) {
  for (uint64_t slot = from; slot <= to; ++slot) {
    if (!store.Persist(Entry(slot)).ok()) return false;
    auto out = store.ApplySlot(slot, CounterSlot(slot));
    if (!out.ok() || !(*out)[0].result.cput_succeeded() || (*out)[0].duplicate) return false;
  }
  return true;
}

// What the replica does at a restart: the state machine opens at its durable applied slot
// with exactly that slot's state, and the log above it, still whole, replays the rest.
void ExpectReplayReaches(ReplicaStore& store, uint64_t last) {
  const uint64_t applied = store.AppliedSlot();
  ASSERT_EQ(*store.Get("counter", "c"), std::optional<std::string>(absl::StrCat(applied)))
      << "the cells and the applied slot on disk are from different moments";
  std::vector<std::pair<uint64_t, std::string>> entries;
  ASSERT_TRUE(store.ReadLog(applied + 1, last, &entries).ok()) << "applied " << applied;
  for (uint64_t slot = applied + 1; slot <= last; ++slot) {
    auto out = store.ApplySlot(slot, CounterSlot(slot));
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_FALSE((*out)[0].duplicate) << "slot " << slot << "'s session record outlived its cell";
    ASSERT_TRUE((*out)[0].result.cput_succeeded()) << "slot " << slot << " was applied twice";
  }
  EXPECT_EQ(*store.Get("counter", "c"), std::optional<std::string>(absl::StrCat(last)));
}

TEST_F(DiskFaultTest, APowerCutReopensTheStateMachineAtOneFlushedSlotAndTheLogReplaysTheRest) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(RunCounter(*store, 1, 20));
  ASSERT_TRUE(WaitStateFlushed(*store));
  // 30 MiB more of values: the data family's memtable fills and is flushed by RocksDB
  // alone, while the applied slot and the session records have no reason to be.
  ASSERT_TRUE(RunCounter(*store, 21, 80));
  PowerCut(store);
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_GE(store->AppliedSlot(), 20u) << "a flushed apply was lost";
  EXPECT_EQ(store->LogBounds(), std::make_pair(uint64_t{1}, uint64_t{80}));
  ExpectReplayReaches(*store, 80);
}

TEST_F(DiskFaultTest, TheLogIsNeverCompactedPastTheDurableAppliedSlot) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(RunCounter(*store, 1, 10));
  EXPECT_EQ(store->CompactLog(5).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(WaitStateFlushed(*store));
  ASSERT_TRUE(store->CompactLog(5).ok());
  ASSERT_TRUE(RunCounter(*store, 11, 15));
  EXPECT_EQ(store->CompactLog(12).code(), absl::StatusCode::kFailedPrecondition);
  PowerCut(store);
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->LogBounds(), std::make_pair(uint64_t{6}, uint64_t{15}));
  EXPECT_GE(store->AppliedSlot(), 10u);
  ExpectReplayReaches(*store, 15);
}

TEST_F(DiskFaultTest, AnInstalledSnapshotIsDurableBeforeTheLogBelowItGoes) {
  std::vector<pb::SnapshotChunk> chunks;
  {
    auto source = Open("source");
    ASSERT_NE(source, nullptr);
    ASSERT_TRUE(RunCounter(*source, 1, 12));
    chunks = DumpAll(*source);
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(RunCounter(*store, 1, 3));
  ASSERT_TRUE(store->InstallSnapshot(chunks, ReplicaStore::kSnapshotMetaKey, "at-12").ok());
  EXPECT_EQ(store->DurableAppliedSlot(), 12u);
  ASSERT_TRUE(store->CompactLog(12).ok());
  ASSERT_TRUE(RunCounter(*store, 13, 16));
  PowerCut(store);
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->AppliedSlot(), 12u);
  EXPECT_EQ(store->Meta(ReplicaStore::kSnapshotMetaKey), "at-12");
  EXPECT_EQ(store->LogBounds(), std::make_pair(uint64_t{13}, uint64_t{16}));
  ExpectReplayReaches(*store, 16);
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
