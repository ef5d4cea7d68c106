// Write deadlines (docs/kvs.md "Write deadlines") on real replicas: a leader does not
// propose a client write after its apply-by time (Command.apply_by_ms) plus the clock-skew
// slack, alone or in a batch, and nothing of it is written; a write in time is applied; the
// session goes on after a refusal; and a write held up past its deadline (the leader paused
// with SIGSTOP, its request in the socket) is refused when it finally arrives.
#include <algorithm>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/grpc_tls.h"
#include "common/write_deadline.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/replica_group_client.h"
#include "proto/kvs.grpc.pb.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {
namespace {

namespace pb = kvs::pb;
using std::chrono::milliseconds;

// ReplicaOptions::apply_by_slack_ms, the replicas' default.
constexpr milliseconds kSlack{500};

int64_t UnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

pb::WriteRequest PutCommand(const std::string& row, uint64_t session, uint64_t seq,
                            int64_t apply_by_ms) {
  pb::WriteRequest w;
  pb::Command* c = w.mutable_command();
  c->set_op(pb::OP_PUT);
  c->set_row(row);
  c->set_column("c");
  c->set_value(absl::StrCat("v", seq));
  c->set_session(session);
  c->set_seq(seq);
  c->set_apply_by_ms(apply_by_ms);
  return w;
}

bool IsTooLate(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         absl::StartsWith(s.error_message(), kvs::kWriteTooLate);
}

class WriteDeadlineTest : public ::testing::Test {
 protected:
  void StartGroup(int replicas, std::vector<std::string> extra_flags = {}) {
    KvsGroupOptions options;
    options.replicas = replicas;
    options.extra_flags = std::move(extra_flags);
    auto group = KvsGroup::Start(options);
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = *std::move(group);
    ASSERT_TRUE(FollowLeader());
    client_ = std::make_unique<kvs::ReplicaGroupClient>(absl::StrSplit(group_->spec(), ','));
  }

  bool FollowLeader() {
    auto leader = group_->Leader();
    if (!leader.ok()) return false;
    leader_ = *leader;
    stub_ = pb::KvsService::NewStub(
        grpc::CreateChannel(group_->address(leader_), tls::ChannelCredentials()));
    return true;
  }

  // A write to the leader. A group just started on a loaded machine may elect again, and a
  // replica that is no longer leader answers OK with a hint, so the write follows it (the
  // same session and sequence: applied at most once).
  grpc::Status Write(const pb::WriteRequest& request, pb::WriteResponse* response,
                     milliseconds timeout = milliseconds(5000)) {
    for (int attempt = 0;; ++attempt) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + timeout);
      grpc::Status s = stub_->Write(&context, request, response);
      if (!s.ok() || !response->hint().not_leader() || attempt == 10 || !FollowLeader()) {
        return s;
      }
    }
  }

  std::unique_ptr<KvsGroup> group_;
  int leader_ = 0;
  std::unique_ptr<pb::KvsService::Stub> stub_;
  std::unique_ptr<kvs::ReplicaGroupClient> client_;
};

TEST_F(WriteDeadlineTest, AWritePastItsDeadlineIsRefusedAndOneInTimeApplied) {
  StartGroup(3);
  const auto now = std::chrono::system_clock::now();
  pb::WriteResponse response;
  grpc::Status late =
      Write(PutCommand("late", 7, 1, UnixMs(now - std::chrono::seconds(60))), &response);
  EXPECT_TRUE(IsTooLate(late)) << late.error_message();
  grpc::Status in_time =
      Write(PutCommand("in-time", 8, 1, UnixMs(now + std::chrono::seconds(60))), &response);
  EXPECT_TRUE(in_time.ok()) << in_time.error_message();
  EXPECT_FALSE(response.hint().not_leader());

  // The same in one batch: each item judged alone.
  pb::BatchRequest batch;
  *batch.add_writes() = PutCommand("late-batched", 9, 1, UnixMs(now - std::chrono::seconds(60)));
  *batch.add_writes() =
      PutCommand("in-time-batched", 10, 1, UnixMs(now + std::chrono::seconds(60)));
  pb::BatchResponse answer;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(stub_->Batch(&context, batch, &answer).ok());
  ASSERT_EQ(answer.write_status_size(), 2);
  EXPECT_EQ(answer.write_status(0).code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StartsWith(answer.write_status(0).message(), kvs::kWriteTooLate));
  EXPECT_EQ(answer.write_status(1).code(), grpc::StatusCode::OK);

  EXPECT_TRUE(absl::IsNotFound(client_->Get("late", "c").status()));
  EXPECT_TRUE(absl::IsNotFound(client_->Get("late-batched", "c").status()));
  EXPECT_EQ(client_->Get("in-time", "c").value_or(""), "v1");
  EXPECT_EQ(client_->Get("in-time-batched", "c").value_or(""), "v1");
}

// An operator whose hosts' clocks drift further apart widens the slack with a flag.
TEST_F(WriteDeadlineTest, TheSlackIsTheOperatorsToWiden) {
  StartGroup(1, {"--apply_by_slack_ms=120000"});
  const auto now = std::chrono::system_clock::now();
  pb::WriteResponse response;
  grpc::Status within_slack =
      Write(PutCommand("skewed", 11, 1, UnixMs(now - std::chrono::seconds(60))), &response);
  EXPECT_TRUE(within_slack.ok()) << within_slack.error_message();
  grpc::Status past_slack =
      Write(PutCommand("too-skewed", 12, 1, UnixMs(now - std::chrono::seconds(180))), &response);
  EXPECT_TRUE(IsTooLate(past_slack)) << past_slack.error_message();
  EXPECT_EQ(client_->Get("skewed", "c").value_or(""), "v1");
  EXPECT_TRUE(absl::IsNotFound(client_->Get("too-skewed", "c").status()));
}

TEST_F(WriteDeadlineTest, ASessionGoesOnAfterARefusal) {
  StartGroup(3);
  const auto now = std::chrono::system_clock::now();
  const int64_t future = UnixMs(now + std::chrono::seconds(60));
  pb::WriteResponse response;
  ASSERT_TRUE(Write(PutCommand("s", 42, 1, future), &response).ok());
  EXPECT_TRUE(
      IsTooLate(Write(PutCommand("s", 42, 2, UnixMs(now - std::chrono::seconds(60))), &response)));
  EXPECT_EQ(client_->Get("s", "c").value_or(""), "v1");
  // The refused sequence was never recorded: the session's next write is applied.
  ASSERT_TRUE(Write(PutCommand("s", 42, 3, future), &response).ok());
  EXPECT_EQ(client_->Get("s", "c").value_or(""), "v3");
  // And the client library under a budget writes as usual.
  write_deadline::Scope scope(milliseconds(20000));
  ASSERT_TRUE(client_->Put("s", "c", "budgeted").ok());
  EXPECT_EQ(client_->Get("s", "c").value_or(""), "budgeted");
}

TEST_F(WriteDeadlineTest, AWriteHeldUpPastItsDeadlineIsNotApplied) {
  // One replica: it stays the leader through the pause, so a held write meets the
  // deadline check rather than an election.
  StartGroup(1);
  pb::WriteResponse warm;
  // Both connections are up before the pause.
  ASSERT_TRUE(Write(PutCommand("warm", 1, 1, 0), &warm).ok());
  ASSERT_TRUE(client_->Put("warm", "c", "client").ok());
  group_->Stop(leader_);
  const auto now = std::chrono::system_clock::now();
  const auto apply_by = now + milliseconds(200);
  auto held = [&](const std::string& row, uint64_t session, int64_t apply_by_ms) {
    return std::async(std::launch::async, [=, this] {
      // The resumed replica may first re-elect itself and answer "not leader" (nothing
      // proposed); like the client, ask it again until it answers for real.
      grpc::Status s(grpc::StatusCode::UNAVAILABLE, "no answer with a leader");
      for (int i = 0; i < 200; ++i) {
        pb::WriteResponse response;
        s = Write(PutCommand(row, session, 1, apply_by_ms), &response, milliseconds(30000));
        if (!s.ok() || !response.hint().not_leader()) return s;
        std::this_thread::sleep_for(milliseconds(20));
      }
      return s;
    });
  };
  std::future<grpc::Status> late = held("held-late", 2, UnixMs(apply_by));
  std::future<grpc::Status> in_time =
      held("held-in-time", 3, UnixMs(now + std::chrono::seconds(60)));
  // The client library's write under a short budget gives up while the leader is paused,
  // long before its own 10 s; its copies in the leader's socket arrive too late.
  constexpr milliseconds kBudget{300};
  std::promise<std::chrono::system_clock::time_point> budget_started;
  std::future<absl::Status> budgeted = std::async(std::launch::async, [&, this] {
    write_deadline::Scope scope(kBudget);
    budget_started.set_value(std::chrono::system_clock::now());
    return client_->Put("held-budgeted", "c", "v");
  });
  ASSERT_EQ(budgeted.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const absl::Status gave_up = budgeted.get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(gave_up)) << gave_up;
  // Hold the paused leader until both deadlines and the slack are over. The budgeted
  // write's runs from when its thread got to it, which on a loaded machine can be well
  // after `now`.
  const auto budget_end = budget_started.get_future().get() + kBudget;
  std::this_thread::sleep_until(std::max(apply_by, budget_end) + kSlack + milliseconds(300));
  group_->Continue(leader_);

  ASSERT_EQ(late.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const grpc::Status refused = late.get();
  EXPECT_TRUE(IsTooLate(refused)) << refused.error_message();
  ASSERT_EQ(in_time.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const grpc::Status applied = in_time.get();
  EXPECT_TRUE(applied.ok()) << applied.error_message();
  // A write after the resume on the client's connection goes behind its late copies.
  ASSERT_TRUE(client_->Put("after", "c", "v").ok());
  EXPECT_TRUE(absl::IsNotFound(client_->Get("held-late", "c").status()))
      << client_->Get("held-late", "c").status();
  EXPECT_TRUE(absl::IsNotFound(client_->Get("held-budgeted", "c").status()));
  EXPECT_EQ(client_->Get("held-in-time", "c").value_or(""), "v1")
      << client_->Get("held-in-time", "c").status();
}

}  // namespace
}  // namespace penncloud::testing
