// The apply queue: which waiting writes an applied command answers, with what, in which
// order, and what happens to the rest (dropped, expired, failed). Writes are batch items
// here, so their answers can be read back from the batch's response without a server.
#include "kvs/server/apply_queue.h"

#include <gtest/gtest.h>

#include "kvs/client/replica_group_client.h"
#include "kvs/shard/wrong_group.h"

namespace penncloud::kvs::server {
namespace {

using Clock = std::chrono::steady_clock;

class ApplyQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < kItems; ++i) {
      response_.add_writes();
      response_.add_write_status()->set_code(-1);  // not answered yet
    }
  }
  // Item i of the batch, due at `deadline`.
  PendingWrite Item(int i, Clock::time_point deadline = Clock::now() + std::chrono::hours(1)) {
    return PendingWrite{nullptr, response_.mutable_writes(i), deadline, &batch_, i};
  }
  int Code(int i) const { return response_.write_status(i).code(); }
  static pb::Command Command(uint64_t session, uint64_t seq) {
    pb::Command c;
    c.set_session(session);
    c.set_seq(seq);
    return c;
  }

  static constexpr int kItems = 8;
  pb::BatchResponse response_;
  // Never released to zero here: the test holds the handler's count.
  BatchCall batch_{nullptr, &response_, 1000};
  ApplyQueue queue_;
};

TEST_F(ApplyQueueTest, AnAppliedCommandAnswersEveryCopyOfItsWriteAndNoOther) {
  queue_.Add(1, 1, Item(0));
  queue_.Add(1, 1, Item(1));  // a retry of the same write to the same leader
  queue_.Add(1, 2, Item(2));
  queue_.Add(2, 1, Item(3));
  machine::ApplyOutcome cput;
  cput.result.set_cput_succeeded(true);
  queue_.Applied(Command(1, 1), cput, 0);
  EXPECT_EQ(Code(0), grpc::StatusCode::OK);
  EXPECT_EQ(Code(1), grpc::StatusCode::OK);
  EXPECT_TRUE(response_.writes(0).cput_succeeded());
  EXPECT_TRUE(response_.writes(1).cput_succeeded());
  EXPECT_EQ(Code(2), -1) << "(session 1, seq 2) is still waiting";
  EXPECT_EQ(Code(3), -1);
  EXPECT_EQ(queue_.size(), 2u);
  queue_.Applied(Command(1, 1), cput, 0);  // applied again (a copy chosen twice): no one waits
  EXPECT_EQ(queue_.size(), 2u);
}

TEST_F(ApplyQueueTest, EachOutcomeGetsItsAnswer) {
  machine::ApplyOutcome stale, expired, frozen, wrong, ok;
  stale.stale = true;
  expired.expired = true;
  frozen.unavailable = "range frozen for migration 3";
  wrong.result.set_wrong_group(true);
  wrong.result.set_map_version(7);
  EXPECT_EQ(WriteAnswer(stale, 1).error_code(), grpc::StatusCode::ABORTED);
  const grpc::Status e = WriteAnswer(expired, 1);
  EXPECT_EQ(e.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.error_message().rfind(kSessionExpired, 0), 0u) << e.error_message();
  const grpc::Status f = WriteAnswer(frozen, 1);
  EXPECT_EQ(f.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(f.error_message().find("frozen"), std::string::npos);
  const grpc::Status w = WriteAnswer(wrong, 4);
  EXPECT_EQ(w.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(shard::ParseWrongGroup(
                absl::Status(absl::StatusCode::kFailedPrecondition, w.error_message())),
            7u)
      << w.error_message();
  EXPECT_TRUE(WriteAnswer(ok, 1).ok());
  // A refused write does not report a CPUT verdict.
  queue_.Add(5, 1, Item(0));
  wrong.result.set_cput_succeeded(true);
  queue_.Applied(Command(5, 1), wrong, 4);
  EXPECT_FALSE(response_.writes(0).cput_succeeded());
}

TEST_F(ApplyQueueTest, DroppedWritesGetAHintExpiredOnesFailTheRestWait) {
  const auto now = Clock::now();
  queue_.Add(1, 1, Item(0));
  queue_.Add(2, 1, Item(1, now - std::chrono::milliseconds(1)));
  queue_.Add(2, 1, Item(2, now + std::chrono::hours(1)));
  queue_.Dropped(1, 1, [](pb::LeaderHint* hint) { hint->set_leader("10.0.0.2:7001"); });
  EXPECT_EQ(Code(0), grpc::StatusCode::OK);
  EXPECT_EQ(response_.writes(0).hint().leader(), "10.0.0.2:7001");
  queue_.Expire(now);
  EXPECT_EQ(Code(1), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Code(2), -1) << "its copy with a later deadline still waits";
  EXPECT_EQ(queue_.size(), 1u);
  queue_.FailAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stopping"));
  EXPECT_EQ(Code(2), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(queue_.empty());
}

}  // namespace
}  // namespace penncloud::kvs::server
