// The snapshot executor on real stores: a download held until installed (a newer one
// replaces it and its files go), the checks before an install, the install itself, and a
// fetch from an unreachable peer that leaves nothing behind.
#include "kvs/server/snapshot_executor.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "kvs/storage/snapshot_file.h"
#include "tests/support/process.h"

namespace penncloud::kvs::server {
namespace {

uint64_t FirstByte(std::string_view row) { return row.empty() ? 0 : uint8_t(row[0]); }

class SnapshotExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = penncloud::testing::TempDir("kvs-snapshots");
    store_ = Open("db");
    ASSERT_NE(store_, nullptr);
    executor_ = std::make_unique<SnapshotExecutor>(*store_);
  }
  void TearDown() override {
    executor_.reset();
    store_.reset();
    penncloud::testing::RemoveTree(dir_);
  }
  std::unique_ptr<storage::ReplicaStore> Open(const std::string& name) {
    auto store = storage::ReplicaStore::Open(dir_ + "/" + name, FirstByte);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  // A finished download of `source`'s state in the executor's store's inbox.
  IncomingSnapshot Download(storage::ReplicaStore& source, const std::string& name) {
    const std::string dir = store_->SnapshotInbox() + "/" + name;
    auto download = storage::SnapshotDownload::Create(dir);
    EXPECT_TRUE(download.ok()) << download.status();
    absl::Status dumped = source.DumpSnapshot(
        1 << 20, [&](const pb::SnapshotChunk& chunk) { return (*download)->Add(chunk).ok(); });
    EXPECT_TRUE(dumped.ok()) << dumped;
    EXPECT_TRUE((*download)->Finish().ok());
    return IncomingSnapshot{paxos::Message(), dir, (*download)->slot()};
  }
  static paxos::SnapshotMeta Meta(uint64_t slot) {
    paxos::SnapshotMeta meta;
    meta.set_slot(slot);
    meta.mutable_config()->mutable_current()->add_voters(1);
    return meta;
  }
  static pb::Command Put(uint64_t seq, const std::string& value) {
    pb::Command c;
    c.set_op(pb::OP_PUT);
    c.set_session(1);
    c.set_seq(seq);
    c.set_row("row");
    c.set_column("col");
    c.set_value(value);
    return c;
  }

  std::string dir_;
  std::unique_ptr<storage::ReplicaStore> store_;
  std::unique_ptr<SnapshotExecutor> executor_;
};

TEST_F(SnapshotExecutorTest, InstallsTheHeldDownloadAndANewerOneReplacesIt) {
  EXPECT_TRUE(absl::IsNotFound(executor_->CanInstall(Meta(1)))) << "nothing held";
  auto source = Open("source");
  ASSERT_TRUE(source->Apply(1, Put(1, "old")).ok());
  const IncomingSnapshot first = Download(*source, "first");
  ASSERT_TRUE(source->Apply(2, Put(2, "new")).ok());
  const IncomingSnapshot second = Download(*source, "second");
  EXPECT_EQ(second.slot, 2u);

  executor_->Hold(first);
  executor_->Hold(second);
  EXPECT_FALSE(std::filesystem::exists(first.dir)) << "superseded before it was asked for";
  EXPECT_TRUE(std::filesystem::exists(second.dir));
  EXPECT_TRUE(absl::IsOutOfRange(executor_->CanInstall(Meta(3))))
      << "data older than the snapshot's slot would lose a slot";
  ASSERT_TRUE(executor_->CanInstall(Meta(2)).ok());

  ASSERT_TRUE(executor_->Install(Meta(2)).ok());
  EXPECT_FALSE(executor_->held().has_value());
  EXPECT_EQ(store_->AppliedSlot(), 2u);
  auto value = store_->Get("row", "col");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "new");
  paxos::SnapshotMeta recorded;
  ASSERT_TRUE(recorded.ParseFromString(store_->Meta(kSnapshotMeta).value_or("")));
  EXPECT_EQ(recorded.slot(), 2u);
}

TEST_F(SnapshotExecutorTest, AFetchFromAnUnreachablePeerLeavesNothingBehind) {
  int delivered = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    executor_->Fetch(paxos::Message(), /*peer=*/nullptr, 1, [&](IncomingSnapshot) { ++delivered; });
    executor_->Join();
    EXPECT_FALSE(executor_->fetching()) << "ready for the next attempt";
  }
  EXPECT_EQ(delivered, 0);
  const std::string inbox = store_->SnapshotInbox();
  EXPECT_TRUE(!std::filesystem::exists(inbox) || std::filesystem::is_empty(inbox));
}

}  // namespace
}  // namespace penncloud::kvs::server
