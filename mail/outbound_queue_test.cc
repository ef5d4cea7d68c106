// The outbound queue's due index: a claim reads what is due, not the whole queue; leftovers
// of crashed writes are skipped and, once old, removed; the sweep indexes entries written
// without a column; moving an entry's next attempt moves its column.
#include "mail/outbound_queue.h"

#include <iostream>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "kvs/client/counting_client.h"
#include "kvs/client/memory_client.h"

namespace penncloud::mail {
namespace {

using kvs::CountingClient;

class OutboundQueueTest : public ::testing::Test {
 protected:
  OutboundQueueTest() : counting_(kvs_), queue_(counting_, [this] { return now_; }) {}

  std::string Enqueue(int64_t due_in_micros) {
    pb::QueuedMessage e;
    e.set_sender("alice@penncloud.local");
    e.add_recipients("far@example.com");
    e.set_next_attempt_micros(now_ + due_in_micros);
    auto id = queue_.Enqueue(std::move(e), "Subject: x\r\n\r\nbody\r\n");
    EXPECT_TRUE(id.ok()) << id.status();
    return *id;
  }

  size_t DueColumns() {
    kvs::ListOptions options;
    options.limit = 100'000;
    return kvs_.List("mailqdue", options)->cells.size();
  }

  int64_t now_ = 1'000'000'000'000'000;
  kvs::MemoryClient kvs_;
  CountingClient counting_;
  OutboundQueue queue_;
};

TEST_F(OutboundQueueTest, AClaimReadsWhatIsDueNotTheWholeQueue) {
  constexpr int kDeferred = 2000, kDue = 5;
  for (int i = 0; i < kDeferred; ++i) Enqueue(3'600'000'000);  // retried in an hour
  for (int i = 0; i < kDue; ++i) Enqueue(0);

  // Cells read since the last call.
  int64_t read_before = counting_.cells_read();
  auto cells_since = [&] {
    const int64_t now = counting_.cells_read(), since = now - read_before;
    read_before = now;
    return since;
  };
  ASSERT_TRUE(queue_.ListAll().ok());  // what every claim read before the index
  const int64_t whole = cells_since();
  auto claimed = queue_.Claim("runner", 60'000'000, 32);
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->size(), static_cast<size_t>(kDue));
  const int64_t due_only = cells_since();
  EXPECT_TRUE(queue_.Claim("runner", 60'000'000, 32)->empty());  // all leased now
  const int64_t idle = cells_since();
  auto stats = queue_.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->length, kDeferred + kDue);
  EXPECT_EQ(stats->oldest_enqueued_micros, now_);
  const int64_t counted = cells_since();
  std::cout << "cells read over " << kDeferred + kDue << " entries (" << kDue
            << " due): whole queue " << whole << " (with values), claim " << due_only
            << ", idle claim " << idle << ", stats " << counted << " (names only)\n";
  EXPECT_EQ(whole, kDeferred + kDue);
  // A page of the index (16 names) and a Get per due entry; the leased ones are read again.
  EXPECT_LE(due_only, 16 + kDue);
  EXPECT_LE(idle, 16 + kDue);
}

TEST_F(OutboundQueueTest, LeftoversAreSkippedAndRemovedOnceOld) {
  // Columns whose entry is missing, as a crash between the two writes leaves them.
  ASSERT_TRUE(
      kvs_.Put("mailqdue", absl::StrFormat("%016x/gone-old", now_ - kStaleGraceMicros - 1), "")
          .ok());
  ASSERT_TRUE(kvs_.Put("mailqdue", absl::StrFormat("%016x/gone-young", now_ - 1), "").ok());
  std::string id = Enqueue(0);
  auto claimed = queue_.Claim("runner", 60'000'000, 32);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().id(), id);
  EXPECT_EQ(DueColumns(), 2u);  // the young leftover stays (it may be a write in flight)
  EXPECT_TRUE(queue_.Complete(claimed->front()).ok());
  EXPECT_EQ(DueColumns(), 1u);
  now_ += kStaleGraceMicros;
  EXPECT_TRUE(queue_.Claim("runner", 60'000'000, 32)->empty());
  EXPECT_EQ(DueColumns(), 0u);
}

TEST_F(OutboundQueueTest, TheSweepIndexesEntriesWrittenWithoutAColumn) {
  pb::QueuedMessage old;
  old.set_id("0000000000000001old");
  old.set_next_attempt_micros(now_);
  old.add_recipients("far@example.com");
  ASSERT_TRUE(kvs_.Put("mailq", old.id(), old.SerializeAsString()).ok());
  EXPECT_TRUE(queue_.Claim("runner", 60'000'000, 32)->empty());
  EXPECT_EQ(queue_.Sweep().value(), 1);
  EXPECT_EQ(queue_.Sweep().value(), 0);
  auto claimed = queue_.Claim("runner", 60'000'000, 32);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().id(), old.id());
}

TEST_F(OutboundQueueTest, MovingTheNextAttemptMovesTheColumn) {
  std::string id = Enqueue(3'600'000'000);
  EXPECT_TRUE(queue_.Claim("runner", 60'000'000, 32)->empty());
  auto moved = queue_.Modify(id, [&](pb::QueuedMessage& e) {
    e.set_next_attempt_micros(now_);  // "retry now"
    return absl::OkStatus();
  });
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(DueColumns(), 1u);
  auto claimed = queue_.Claim("runner", 60'000'000, 32);
  ASSERT_EQ(claimed->size(), 1u);
  pb::QueuedMessage later = claimed->front();
  later.set_next_attempt_micros(now_ + 60'000'000);
  ASSERT_TRUE(queue_.Update(claimed->front(), later).ok());
  EXPECT_EQ(DueColumns(), 1u);
  EXPECT_TRUE(queue_.Claim("runner", 60'000'000, 32)->empty());
  now_ += 60'000'000;
  EXPECT_EQ(queue_.Claim("runner", 60'000'000, 32)->size(), 1u);
  auto withdrawn = queue_.Withdraw(id, [](const pb::QueuedMessage&) { return absl::OkStatus(); });
  EXPECT_TRUE(absl::IsFailedPrecondition(withdrawn.status()));  // leased
  now_ += 60'000'000;
  ASSERT_TRUE(queue_.Withdraw(id, [](const pb::QueuedMessage&) { return absl::OkStatus(); }).ok());
  EXPECT_EQ(DueColumns(), 0u);
}

}  // namespace
}  // namespace penncloud::mail
