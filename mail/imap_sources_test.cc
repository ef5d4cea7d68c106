#include "mail/imap_sources.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/client/counting_client.h"
#include "kvs/client/forwarding_client.h"
#include "kvs/client/memory_client.h"
#include "mail/chunks.h"
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

// Reads as a KVS group's client does them (kvs/client/async_reads.h), with the ways one can
// go wrong chosen per row: once `batch` reads are started, all of them are answered at
// once on another thread, last started first, so a message's chunks land out of order.
// Rows named in `declined` come back unsettled, as after a leader change or from a
// sharded client without a fresh map; rows in `failing` settle with kUnavailable.
class ScriptedReadsClient : public kvs::ForwardingClient {
 public:
  ScriptedReadsClient(kvs::Client& inner, size_t batch) : ForwardingClient(inner), batch_(batch) {}
  ~ScriptedReadsClient() override {
    if (answerer_.joinable()) answerer_.join();
  }

  void StartGet(std::string_view row, std::string_view column,
                std::function<void(kvs::StartedGet)> done) override {
    if (declined.count(std::string(row)) > 0) return done(std::nullopt);
    if (failing.count(std::string(row)) > 0) return done(absl::UnavailableError("cut off"));
    std::lock_guard<std::mutex> lock(mu_);
    started_.push_back({std::string(row), std::string(column), std::move(done)});
    if (started_.size() < batch_) return;
    answerer_ = std::thread([this, reads = std::move(started_)]() mutable {
      std::reverse(reads.begin(), reads.end());
      for (Started& read : reads) read.done(ForwardingClient::Get(read.row, read.column));
    });
    started_.clear();
  }
  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    got_.fetch_add(1);
    return ForwardingClient::Get(row, column);
  }
  // Blocking reads: what SourceBatches read again after the first attempt.
  int got() const { return got_.load(); }

  std::set<std::string> declined, failing;

 private:
  struct Started {
    std::string row, column;
    std::function<void(kvs::StartedGet)> done;
  };
  const size_t batch_;
  std::mutex mu_;
  std::vector<Started> started_;  // GUARDED_BY(mu_)
  std::thread answerer_;
  std::atomic<int> got_{0};
};

// Alice's Inbox with three small messages around one of three chunks, read through
// ScriptedReadsClient; `expected` holds each message's source as the blocking read gives it.
class SourceBatchesReadsTest : public ::testing::Test {
 protected:
  static constexpr size_t kStartedReads = 3 + 3;  // the chunks of the messages not scripted

  void SetUp() override {
    for (int i = 0; i < 4; ++i) {
      std::string body = i == 2 ? std::string(2 * kChunkBytes + 100, 'x') : Cat("body ", i);
      auto meta =
          writer_.Add("alice", kInbox, Cat("Subject: m", i, "\r\n\r\n", body, "\r\n"), false);
      ASSERT_TRUE(meta.ok()) << meta.status();
      metas_.push_back(*meta);
      auto source = writer_.Source("alice", *meta);
      ASSERT_TRUE(source.ok()) << source.status();
      expected_.push_back(*source);
    }
    ASSERT_EQ(metas_[2].chunks(), 3);
  }
  std::vector<const pb::MessageMeta*> Pointers() const {
    std::vector<const pb::MessageMeta*> out;
    for (const pb::MessageMeta& m : metas_) out.push_back(&m);
    return out;
  }
  std::string ChunkRowOf(size_t message, int chunk) const {
    return Cat(BodyName("alice", metas_[message].id()), "/", chunk);
  }

  kvs::MemoryClient disk_;
  MailStore writer_{disk_};
  std::vector<pb::MessageMeta> metas_;
  std::vector<std::string> expected_;
};

TEST_F(SourceBatchesReadsTest, ReadsLandingOutOfOrderOnAnotherThreadGiveTheSameBytes) {
  ScriptedReadsClient reads(disk_, kStartedReads);
  MailStore store(reads);
  SourceBatches sources(store, "alice", Pointers());
  for (size_t k = 0; k < metas_.size(); ++k) {
    ASSERT_TRUE(sources.At(k).ok()) << k << ": " << sources.At(k).status();
    EXPECT_EQ(*sources.At(k), expected_[k]) << k;
  }
  EXPECT_EQ(reads.got(), 0);  // no thread waited on a read
}

TEST_F(SourceBatchesReadsTest, AReadItsFirstAttemptLeftUnsettledIsReadAgainTheBlockingWay) {
  // One chunk of the large message, and a whole small one.
  ScriptedReadsClient reads(disk_, kStartedReads - 2);
  reads.declined = {ChunkRowOf(2, 1), ChunkRowOf(1, 0)};
  MailStore store(reads);
  SourceBatches sources(store, "alice", Pointers());
  for (size_t k = 0; k < metas_.size(); ++k) {
    ASSERT_TRUE(sources.At(k).ok()) << k << ": " << sources.At(k).status();
    EXPECT_EQ(*sources.At(k), expected_[k]) << k;
  }
  EXPECT_EQ(reads.got(), 1 + 3);  // message 1's chunk, then all of message 2's
}

TEST_F(SourceBatchesReadsTest, AFailedReadIsAnErrorOfItsMessageOnly) {
  ScriptedReadsClient reads(disk_, kStartedReads - 1);
  reads.failing = {ChunkRowOf(3, 0)};
  ASSERT_TRUE(disk_.Delete(ChunkRowOf(2, 2), "c").ok());  // a source gone under its entry
  MailStore store(reads);
  SourceBatches sources(store, "alice", Pointers());
  for (size_t k : {0, 1}) EXPECT_EQ(*sources.At(k), expected_[k]) << k;
  EXPECT_TRUE(absl::IsNotFound(sources.At(2).status())) << sources.At(2).status();
  EXPECT_TRUE(absl::IsUnavailable(sources.At(3).status())) << sources.At(3).status();
  EXPECT_EQ(reads.got(), 0);  // a settled error is the answer, as Get's would be
}

}  // namespace
}  // namespace penncloud::mail
