// The outbound queue's due index: a claim reads what is due, not the whole queue; leftovers
// of crashed writes are skipped and, once old, removed; the sweep indexes entries written
// without a column, reading after its first pass only the entries enqueued since; moving an
// entry's next attempt moves its column; the gauge reads what changed since its last pass.
#include "mail/outbound_queue.h"

#include <iostream>
#include <set>

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

  size_t Columns(std::string_view row) {
    kvs::ListOptions options;
    options.limit = 100'000;
    return kvs_.List(row, options)->cells.size();
  }
  size_t DueColumns() { return Columns("mailqdue"); }

  // Cells read since the last call.
  int64_t CellsReadSince() {
    const int64_t now = counting_.cells_read(), since = now - cells_read_before_;
    cells_read_before_ = now;
    return since;
  }

  // An entry as a server older than the due index wrote it: no column.
  std::string PutUnindexed(int64_t due_micros) {
    pb::QueuedMessage entry;
    entry.set_id(queue_.NewId());
    entry.set_next_attempt_micros(due_micros);
    entry.add_recipients("far@example.com");
    EXPECT_TRUE(kvs_.Put("mailq", entry.id(), entry.SerializeAsString()).ok());
    return entry.id();
  }

  int64_t now_ = 1'000'000'000'000'000;
  kvs::MemoryClient kvs_;
  CountingClient counting_;
  OutboundQueue queue_;
  int64_t cells_read_before_ = 0;
};

TEST_F(OutboundQueueTest, AClaimReadsWhatIsDueNotTheWholeQueue) {
  constexpr int kDeferred = 2000, kDue = 5;
  for (int i = 0; i < kDeferred; ++i) Enqueue(3'600'000'000);  // retried in an hour
  for (int i = 0; i < kDue; ++i) Enqueue(0);

  auto cells_since = [&] { return CellsReadSince(); };
  cells_since();
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
  std::string old = PutUnindexed(now_);
  for (int i = 0; i < 2000; ++i) Enqueue(3'600'000'000);
  EXPECT_TRUE(queue_.Claim("runner", 60'000'000, 32)->empty());
  now_ += 2 * kLookBackMicros;
  CellsReadSince();
  EXPECT_EQ(queue_.Sweep().value(), 1);
  const int64_t first = CellsReadSince();
  auto claimed = queue_.Claim("runner", 60'000'000, 32);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().id(), old);
  ASSERT_TRUE(queue_.Complete(claimed->front()).ok());

  // Later sweeps read the entries enqueued since the one before (less kLookBackMicros),
  // and the column of each.
  now_ += kSweepMicros;
  std::string late = PutUnindexed(now_);
  std::string indexed = Enqueue(0);
  CellsReadSince();
  EXPECT_EQ(queue_.Sweep().value(), 1);
  const int64_t two_new = CellsReadSince();
  now_ += kSweepMicros + 1;  // past the instant the next sweep's look-back begins at
  EXPECT_EQ(queue_.Sweep().value(), 0);
  const int64_t within_look_back = CellsReadSince();
  now_ += 2 * kSweepMicros;
  EXPECT_EQ(queue_.Sweep().value(), 0);
  const int64_t quiet = CellsReadSince();
  std::cout << "sweep cells read over 2,001 entries: first " << first << ", 2 new " << two_new
            << ", the same within the look-back " << within_look_back << ", none new " << quiet
            << "\n";
  EXPECT_EQ(first, 2000 + 2001);  // the whole index and the whole queue
  EXPECT_EQ(two_new, 2 + 2 + 1);  // the 2 entries, their columns, the removal record listed
  EXPECT_EQ(within_look_back, 2 + 2 + 1);
  EXPECT_EQ(quiet, 1);  // the removal record, still young enough to stay
  claimed = queue_.Claim("runner", 60'000'000, 32);
  ASSERT_EQ(claimed->size(), 2u);
  std::set<std::string> ids = {claimed->front().id(), claimed->back().id()};
  EXPECT_EQ(ids, (std::set<std::string>{late, indexed}));
}

TEST_F(OutboundQueueTest, AnEntryMovedWithoutItsColumnGetsOneOnceTheOldColumnIsStale) {
  std::string id = Enqueue(0);
  auto entry = queue_.Get(id);
  ASSERT_TRUE(entry.ok());
  // A server older than the index retried it in two hours and did not move the column.
  entry->set_next_attempt_micros(now_ + 7'200'000'000);
  ASSERT_TRUE(kvs_.Put("mailq", id, entry->SerializeAsString()).ok());
  EXPECT_TRUE(queue_.Claim("runner", 60'000'000, 32)->empty());
  now_ += kStaleGraceMicros + 1;
  EXPECT_TRUE(queue_.Claim("runner", 60'000'000, 32)->empty());
  EXPECT_EQ(DueColumns(), 1u);  // moved to the entry's time
  now_ += 7'200'000'000;
  auto claimed = queue_.Claim("runner", 60'000'000, 32);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().id(), id);
}

TEST_F(OutboundQueueTest, TheGaugeReadsWhatChangedNotTheWholeQueue) {
  const int64_t first_enqueued = now_;
  std::vector<std::string> deferred;
  for (int i = 0; i < 2000; ++i) deferred.push_back(Enqueue(3'600'000'000));
  for (int i = 0; i < 5; ++i) Enqueue(0);
  now_ += 2 * kLookBackMicros;
  CellsReadSince();
  auto stats = queue_.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->length, 2005);
  EXPECT_EQ(stats->oldest_enqueued_micros, first_enqueued);
  const int64_t first = CellsReadSince();

  // Another server (a queue object of its own, its reads not counted) delivers three,
  // withdraws two and enqueues two.
  OutboundQueue other(kvs_, [this] { return now_; });
  now_ += 10'000'000;
  auto claimed = other.Claim("runner", 60'000'000, 3);
  ASSERT_EQ(claimed->size(), 3u);
  for (const auto& entry : *claimed) ASSERT_TRUE(other.Complete(entry).ok());
  auto allow = [](const pb::QueuedMessage&) { return absl::OkStatus(); };
  ASSERT_TRUE(other.Withdraw(deferred[0], allow).ok());
  ASSERT_TRUE(other.Withdraw(deferred[1], allow).ok());
  for (int i = 0; i < 2; ++i) {
    pb::QueuedMessage e;
    e.add_recipients("far@example.com");
    ASSERT_TRUE(other.Enqueue(std::move(e), "Subject: y\r\n\r\nbody\r\n").ok());
  }
  CellsReadSince();
  stats = queue_.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->length, 2005 - 3 - 2 + 2);
  EXPECT_EQ(stats->oldest_enqueued_micros, first_enqueued);
  const int64_t changed = CellsReadSince();
  now_ += 2 * kLookBackMicros;
  stats = queue_.Stats();
  EXPECT_EQ(stats->length, 2002);
  const int64_t again = CellsReadSince();  // the changes, within the look-back once more
  now_ += 2 * kLookBackMicros;
  stats = queue_.Stats();
  EXPECT_EQ(stats->length, 2002);
  const int64_t idle = CellsReadSince();
  // A send to local recipients only: enqueued and removed at once, no removal record.
  pb::QueuedMessage local;
  local.add_local_recipients("bob@penncloud.local");
  auto local_id = other.Enqueue(std::move(local), "Subject: z\r\n\r\nbody\r\n");
  ASSERT_TRUE(local_id.ok());
  EXPECT_EQ(queue_.Stats()->length, 2003);
  auto local_entry = other.Claim("sender", 60'000'000, 1,
                                 [&](const pb::QueuedMessage& e) { return e.id() == *local_id; });
  ASSERT_EQ(local_entry->size(), 1u);
  ASSERT_TRUE(other.Complete(local_entry->front()).ok());
  now_ += 1'000'000;
  EXPECT_EQ(queue_.Stats()->length, 2002);
  EXPECT_EQ(Columns("mailqgone"), 5u);
  now_ += kRecountMicros;
  CellsReadSince();
  stats = queue_.Stats();
  EXPECT_EQ(stats->length, 2002);
  const int64_t recount = CellsReadSince();
  std::cout << "gauge cells read over 2,005 entries: first pass " << first << ", after 7 changes "
            << changed << ", then " << again << ", idle " << idle << ", recount " << recount
            << "\n";
  EXPECT_EQ(first, 2005);
  EXPECT_EQ(changed, 2 + 5);  // the new ids and the removal records
  EXPECT_EQ(again, 2 + 5);
  EXPECT_EQ(idle, 0);
  EXPECT_EQ(recount, 2002);

  // The removal records go once no gauge looks back that far.
  now_ += kStaleGraceMicros;
  ASSERT_TRUE(queue_.Sweep().ok());
  EXPECT_EQ(Columns("mailqgone"), 0u);
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
