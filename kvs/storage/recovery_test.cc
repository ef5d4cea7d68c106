// Crash recovery of the replica store: a process that dies without closing the store
// (kill -9) and a write-ahead log whose tail was torn or garbled by the crash. The store
// must open, keep every synced record before the damage and drop the damaged tail.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/storage/replica_store.h"
#include "tests/support/process.h"

namespace penncloud::kvs::storage {
namespace {

namespace fs = std::filesystem;

uint64_t FirstByte(std::string_view row) { return row.empty() ? 0 : uint8_t(row[0]); }

// Writes entries 1..n (each its own synced write) in a child process that then dies
// without closing anything, as under kill -9.
void WriteAndCrash(const std::string& dir, int n) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = ReplicaStore::Open(dir, FirstByte);
    if (!store.ok()) _exit(1);
    for (int i = 1; i <= n; ++i) {
      LogWrite w;
      w.entries.emplace_back(i, absl::StrCat("entry-", i, std::string(100, 'x')));
      w.hard_state = absl::StrCat("hs-", i);
      if (!(*store)->Persist(w).ok()) _exit(2);
    }
    _exit(0);  // no destructors: the store is never closed
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

std::string NewestWal(const std::string& dir) {
  std::string newest;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".log" &&
        name > fs::path(newest).filename().string()) {
      newest = e.path().string();
    }
  }
  return newest;
}

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = penncloud::testing::TempDir("store-recovery") + "/db"; }
  void TearDown() override { penncloud::testing::RemoveTree(fs::path(dir_).parent_path()); }
  std::string dir_;
};

TEST_F(RecoveryTest, EverySyncedWriteSurvivesAKill) {
  WriteAndCrash(dir_, 50);
  auto store = ReplicaStore::Open(dir_, FirstByte);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LogBounds().first, 1u);
  EXPECT_EQ((*store)->LogBounds().second, 50u);
  EXPECT_EQ((*store)->HardState(), "hs-50");
}

TEST_F(RecoveryTest, TornTailIsCutAtTheLastIntactRecord) {
  WriteAndCrash(dir_, 50);
  const std::string wal = NewestWal(dir_);
  ASSERT_FALSE(wal.empty());
  const auto size = fs::file_size(wal);
  // Cut the last record in half, as a crash in the middle of writing it would.
  fs::resize_file(wal, size - 60);
  auto store = ReplicaStore::Open(dir_, FirstByte);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LogBounds().first, 1u);
  EXPECT_EQ((*store)->LogBounds().second, 49u);  // entry 50's record was torn
  EXPECT_EQ((*store)->HardState(), "hs-49");
  std::vector<std::pair<uint64_t, std::string>> entries;
  ASSERT_TRUE((*store)->ReadLog(1, 49, &entries).ok());
  EXPECT_EQ(entries[48].second.substr(0, 9), "entry-49x");
}

TEST_F(RecoveryTest, GarbageAfterTheLastRecordIsDropped) {
  WriteAndCrash(dir_, 20);
  const std::string wal = NewestWal(dir_);
  ASSERT_FALSE(wal.empty());
  {
    std::ofstream out(wal, std::ios::app | std::ios::binary);
    out << std::string("\x13\x37\xde\xad\xbe\xef garbage of a half-written block", 40);
  }
  auto store = ReplicaStore::Open(dir_, FirstByte);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LogBounds().second, 20u);
  EXPECT_EQ((*store)->HardState(), "hs-20");
  // And the store takes new writes after the damaged point.
  LogWrite w;
  w.entries.emplace_back(21, "after");
  ASSERT_TRUE((*store)->Persist(w).ok());
  EXPECT_EQ((*store)->LogBounds().second, 21u);
}

}  // namespace
}  // namespace penncloud::kvs::storage
