// The fault-injecting file system on its own: what a simulated crash keeps of each file,
// and the errors its faults produce.
#include "kvs/storage/fault_fs.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace penncloud::kvs::storage {
namespace {

using rocksdb::IOOptions;

class FaultFsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = penncloud::testing::TempDir("fault-fs"); }
  void TearDown() override { penncloud::testing::RemoveTree(dir_); }

  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s =
        fs_->NewWritableFile(dir_ + "/" + name, rocksdb::FileOptions(), &file, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return file;
  }
  std::string Contents(const std::string& name) {
    std::ifstream in(dir_ + "/" + name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  bool Exists(const std::string& name) { return std::filesystem::exists(dir_ + "/" + name); }

  std::string dir_;
  std::shared_ptr<FaultFileSystem> fs_ =
      std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default());
};

TEST_F(FaultFsTest, ACrashKeepsWhatWasSyncedAndNothingElse) {
  auto synced = Create("synced");
  ASSERT_TRUE(synced->Append("durable", IOOptions(), nullptr).ok());
  ASSERT_TRUE(synced->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(synced->Append(" and lost", IOOptions(), nullptr).ok());
  ASSERT_TRUE(synced->Flush(IOOptions(), nullptr).ok());
  auto never = Create("never");
  ASSERT_TRUE(never->Append("gone", IOOptions(), nullptr).ok());
  ASSERT_TRUE(never->Flush(IOOptions(), nullptr).ok());
  EXPECT_EQ(Contents("synced"), "durable and lost");  // the page cache had it all

  {
    absl::Status d = fs_->DropUnsyncedData();
    ASSERT_TRUE(d.ok()) << d;
  }
  EXPECT_EQ(Contents("synced"), "durable");
  EXPECT_FALSE(Exists("never"));
}

TEST_F(FaultFsTest, ARangeSyncMakesNothingDurable) {
  auto file = Create("f");
  ASSERT_TRUE(file->Append("abc", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("def", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->RangeSync(0, 6, IOOptions(), nullptr).ok());
  {
    absl::Status d = fs_->DropUnsyncedData();
    ASSERT_TRUE(d.ok()) << d;
  }
  EXPECT_EQ(Contents("f"), "abc");
}

TEST_F(FaultFsTest, AFailedSyncIsEioAndLosesTheUnsyncedBytes) {
  auto file = Create("f");
  ASSERT_TRUE(file->Append("kept", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Fsync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("+lost", IOOptions(), nullptr).ok());
  fs_->SetFaults({.sync_fails = true});
  rocksdb::IOStatus s = file->Sync(IOOptions(), nullptr);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.ToString().find("EIO"), std::string::npos) << s.ToString();
  EXPECT_EQ(fs_->failed_syncs(), 1u);
  EXPECT_EQ(Contents("f"), "kept");
  std::unique_ptr<rocksdb::FSDirectory> dir;
  ASSERT_TRUE(fs_->NewDirectory(dir_, IOOptions(), &dir, nullptr).ok());
  EXPECT_TRUE(dir->Fsync(IOOptions(), nullptr).IsIOError());
  fs_->SetFaults({});
  EXPECT_TRUE(dir->Fsync(IOOptions(), nullptr).ok());
}

TEST_F(FaultFsTest, NoSpaceRefusesAppendsAndNewFilesUntilSpaceReturns) {
  auto file = Create("f");
  fs_->SetFaults({.no_space = true});
  EXPECT_TRUE(file->Append("x", IOOptions(), nullptr).IsNoSpace());
  std::unique_ptr<rocksdb::FSWritableFile> other;
  EXPECT_TRUE(
      fs_->NewWritableFile(dir_ + "/g", rocksdb::FileOptions(), &other, nullptr).IsNoSpace());
  fs_->SetFaults({});
  EXPECT_TRUE(file->Append("x", IOOptions(), nullptr).ok());
}

TEST_F(FaultFsTest, ARenamedFileKeepsItsSyncedLength) {
  auto file = Create("tmp");
  ASSERT_TRUE(file->Append("whole", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("-tail", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->RenameFile(dir_ + "/tmp", dir_ + "/final", IOOptions(), nullptr).ok());
  {
    absl::Status d = fs_->DropUnsyncedData();
    ASSERT_TRUE(d.ok()) << d;
  }
  EXPECT_EQ(Contents("final"), "whole");
}

}  // namespace
}  // namespace penncloud::kvs::storage
