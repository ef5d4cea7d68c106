// Expiry of the at-most-once table (session_table.cc): what is dropped, what a write of a
// dropped session gets, and that the table's clock survives reopen and snapshots.
#include "gtest/gtest.h"
#include "kvs/storage/replica_store.h"
#include "kvs/storage/store_test_fixture.h"

namespace penncloud::kvs::storage {
namespace {

pb::Command Put(uint64_t session, uint64_t seq, int64_t stamp_ms, std::string value) {
  pb::Command c;
  c.set_op(pb::OP_PUT);
  c.set_session(session);
  c.set_seq(seq);
  c.set_row("r");
  c.set_column(std::to_string(session));
  c.set_value(std::move(value));
  c.set_stamp_ms(stamp_ms);
  return c;
}

pb::Command Expire(int64_t horizon_ms, int64_t retry_window_ms) {
  pb::Command c;
  c.set_op(pb::OP_EXPIRE_SESSIONS);
  c.set_seq(static_cast<uint64_t>(horizon_ms) + 1);  // a nonce, as the leader's
  c.mutable_expire()->set_horizon_ms(horizon_ms);
  c.mutable_expire()->set_retry_window_ms(retry_window_ms);
  return c;
}

class SessionTableTest : public StoreTest {
 protected:
  ApplyOutcome Apply(ReplicaStore& store, const pb::Command& c) {
    auto out = store.Apply(++slot_, c);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : ApplyOutcome();
  }
  uint64_t slot_ = 0;
};

TEST_F(SessionTableTest, ManyShortLivedSessionsAreDroppedAndTheTableStaysBounded) {
  auto store = Open();
  int64_t now = 1'000'000;
  // 500 clients that each write once and go away, over 500 ms of log time; one client
  // that keeps writing.
  uint64_t live_seq = 0;
  for (uint64_t s = 1; s <= 500; ++s) {
    Apply(*store, Put(1000 + s, 1, ++now, "x"));
    if (s % 50 == 0) Apply(*store, Put(7, ++live_seq, ++now, "live"));
  }
  EXPECT_EQ(store->SessionRecords(), 501u);
  EXPECT_EQ(store->SessionClockNow().now_ms(), now);
  // Later the live client writes again, and a sweep drops whoever was idle for 100 ms.
  now += 1000;
  Apply(*store, Put(7, ++live_seq, now, "live"));
  Apply(*store, Expire(now - 100, 50));
  EXPECT_EQ(store->SessionRecords(), 1u);
  EXPECT_EQ(store->SessionClockNow().horizon_ms(), now - 100);
  // The live session is still remembered: a retry of its last write is a duplicate.
  ApplyOutcome retry = Apply(*store, Put(7, live_seq, now + 1, "live"));
  EXPECT_TRUE(retry.duplicate);
  // A sweep with an older horizon (a late copy) changes nothing.
  Apply(*store, Expire(now - 5000, 50));
  EXPECT_EQ(store->SessionClockNow().horizon_ms(), now - 100);
  EXPECT_EQ(store->SessionRecords(), 1u);
}

TEST_F(SessionTableTest, ALateRetryOfADroppedSessionIsRefusedNotAppliedTwice) {
  auto store = Open();
  // Session 5 writes "first" at t=1000 and goes quiet; someone else overwrites the cell.
  Apply(*store, Put(5, 1, 1000, "first"));
  pb::Command other = Put(6, 1, 1100, "second");
  other.set_column("5");
  Apply(*store, other);
  Apply(*store, Put(8, 1, 10'000, "tick"));
  Apply(*store, Expire(10'000 - 2000, 1000));  // idle 2000 ms, retry window 1000 ms
  // A copy of session 5's write stamped close to the original (a client retry, or the
  // original re-proposed by a new leader) arrives after the sweep: it must not run again.
  ApplyOutcome late = Apply(*store, Put(5, 1, 1000, "first"));
  EXPECT_TRUE(late.expired);
  EXPECT_FALSE(late.duplicate);
  EXPECT_EQ(*store->Get("r", "5").value(), "second");
  late = Apply(*store, Put(5, 1, 8'999, "first"));  // still inside horizon + window
  EXPECT_TRUE(late.expired);
  EXPECT_EQ(*store->Get("r", "5").value(), "second");
  // A write stamped after horizon + window is new: a new session, or a dropped one that
  // wrote again after a long pause.
  ApplyOutcome fresh = Apply(*store, Put(5, 2, 10'001, "third"));
  EXPECT_FALSE(fresh.expired);
  EXPECT_EQ(*store->Get("r", "5").value(), "third");
  ApplyOutcome brand_new = Apply(*store, Put(99, 1, 10'002, "new"));
  EXPECT_FALSE(brand_new.expired);
  // Unstamped writes (from a leader that predates stamps) are judged as before.
  ApplyOutcome unstamped = Apply(*store, Put(100, 1, 0, "old leader"));
  EXPECT_FALSE(unstamped.expired);
}

TEST_F(SessionTableTest, TheClockSurvivesReopenAndTravelsInSnapshots) {
  std::vector<pb::SnapshotChunk> chunks;
  {
    auto store = Open();
    Apply(*store, Put(5, 1, 1000, "a"));
    Apply(*store, Put(6, 1, 9000, "b"));
    Apply(*store, Expire(5000, 1000));
    chunks = DumpAll(*store);
  }
  auto reopened = Open();
  EXPECT_EQ(reopened->SessionClockNow().now_ms(), 9000);
  EXPECT_EQ(reopened->SessionClockNow().horizon_ms(), 5000);
  EXPECT_EQ(reopened->SessionRecords(), 1u);
  auto target = Open("other");
  Apply(*target, Put(1, 1, 50, "gone"));
  ASSERT_TRUE(target->InstallSnapshot(chunks, "snapshot_meta", "m").ok());
  EXPECT_EQ(target->SessionClockNow().now_ms(), 9000);
  EXPECT_EQ(target->SessionClockNow().horizon_ms(), 5000);
  EXPECT_EQ(target->SessionRecords(), 1u);
  // So the installed replica refuses exactly what the source refuses.
  EXPECT_TRUE(Apply(*target, Put(5, 1, 1000, "a")).expired);
  EXPECT_TRUE(Apply(*target, Put(6, 1, 9000, "b")).duplicate);
}

}  // namespace
}  // namespace penncloud::kvs::storage
