#include "mail/imap_sources.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/client/counting_client.h"
#include "kvs/client/memory_client.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

class SourceBatchesTest : public ::testing::Test {
 protected:
  // Adds n small messages to alice's Inbox; returns their entries.
  std::vector<pb::MessageMeta> Add(int n) {
    std::vector<pb::MessageMeta> added;
    for (int i = 0; i < n; ++i) {
      auto meta = store_.Add(
          "alice", kInbox, Cat("From: bob@x\r\nSubject: m", i, "\r\n\r\nbody ", i, "\r\n"), false);
      EXPECT_TRUE(meta.ok()) << meta.status();
      if (meta.ok()) added.push_back(*meta);
    }
    return added;
  }
  static std::vector<const pb::MessageMeta*> Pointers(const std::vector<pb::MessageMeta>& metas) {
    std::vector<const pb::MessageMeta*> out;
    for (const pb::MessageMeta& m : metas) out.push_back(&m);
    return out;
  }

  kvs::MemoryClient disk_;
  kvs::CountingClient counting_{disk_};
  MailStore store_{counting_};
};

TEST_F(SourceBatchesTest, SmallMessagesAreReadAFullBatchAtATimeEachOnce) {
  const std::vector<pb::MessageMeta> metas = Add(SourceBatches::kBatch + 10);
  SourceBatches sources(store_, "alice", Pointers(metas));
  const int64_t before = counting_.reads();
  ASSERT_TRUE(sources.At(0).ok());
  EXPECT_GE(counting_.reads() - before, static_cast<int64_t>(SourceBatches::kBatch));
  // The rest of the batch costs no read; the message after it starts the next batch.
  const int64_t after_first = counting_.reads();
  for (size_t k = 1; k < SourceBatches::kBatch; ++k) ASSERT_TRUE(sources.At(k).ok());
  EXPECT_EQ(counting_.reads(), after_first);
  ASSERT_TRUE(sources.At(SourceBatches::kBatch).ok());
  EXPECT_GT(counting_.reads(), after_first);
  for (size_t k = SourceBatches::kBatch; k < metas.size(); ++k) {
    EXPECT_EQ(*sources.At(k), *store_.Source("alice", metas[k])) << k;
  }
}

TEST_F(SourceBatchesTest, ABatchHoldsAtMostItsBytesButAlwaysOneMessage) {
  std::vector<pb::MessageMeta> metas = Add(4);
  // As large messages' entries say: three of 3 MiB fit two to a batch, one of 9 MiB alone.
  for (int i = 0; i < 3; ++i) metas[i].set_size(3 << 20);
  metas[3].set_size(9 << 20);
  SourceBatches sources(store_, "alice", Pointers(metas));
  auto reads_for = [&](size_t k) {
    const int64_t before = counting_.reads();
    EXPECT_TRUE(sources.At(k).ok()) << k;
    return counting_.reads() - before;
  };
  EXPECT_GT(reads_for(0), 0);
  EXPECT_EQ(reads_for(1), 0);  // in the batch of message 0
  EXPECT_GT(reads_for(2), 0);  // 9 MiB would not have fit
  EXPECT_GT(reads_for(3), 0);  // larger than a batch: alone
}

}  // namespace
}  // namespace penncloud::mail
