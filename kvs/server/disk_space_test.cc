// The leader's full-disk check: refused below the reserve with a clear error, accepted
// again once space returns (read at most once per refresh).
#include "kvs/server/disk_space.h"

#include <memory>

#include "gtest/gtest.h"
#include "kvs/storage/disk.h"
#include "kvs/storage/fault_fs.h"
#include "tests/support/process.h"

namespace penncloud::kvs::server {
namespace {

class DiskSpaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = penncloud::testing::TempDir("disk-space");
    storage::UseFileSystem(fault_);
  }
  void TearDown() override {
    storage::UseFileSystem(rocksdb::FileSystem::Default());
    penncloud::testing::RemoveTree(dir_);
  }
  std::string dir_;
  std::shared_ptr<storage::FaultFileSystem> fault_ =
      std::make_shared<storage::FaultFileSystem>(rocksdb::FileSystem::Default());
};

TEST_F(DiskSpaceTest, AFullDiskRefusesWritesClearlyUntilSpaceReturns) {
  DiskSpace space(dir_, 1 << 20, std::chrono::milliseconds(0));
  EXPECT_TRUE(space.CheckWritable().ok());
  fault_->SetFaults({.no_space = true});
  absl::Status full = space.CheckWritable();
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_NE(full.message().find("out of disk space on " + dir_), std::string::npos) << full;
  fault_->SetFaults({});
  EXPECT_TRUE(space.CheckWritable().ok());
}

TEST_F(DiskSpaceTest, TheFreeSpaceIsReadAtMostOncePerRefresh) {
  DiskSpace space(dir_, 1 << 20, std::chrono::hours(1));
  EXPECT_TRUE(space.CheckWritable().ok());
  fault_->SetFaults({.no_space = true});
  EXPECT_TRUE(space.CheckWritable().ok()) << "read again before the refresh";
}

TEST_F(DiskSpaceTest, AReserveLargerThanTheDiskRefuses) {
  DiskSpace space(dir_, ~uint64_t{0}, std::chrono::milliseconds(0));
  EXPECT_EQ(space.CheckWritable().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace penncloud::kvs::server
