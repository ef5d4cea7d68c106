// Batches against a real 3-replica group: concurrent calls of one client share RPCs, each
// item of a batch is judged alone, a follower refuses a batch with a hint, and a batch sent
// twice is applied once. Reads started without waiting (kvs/client/async_reads.h) answer
// what Get would, share RPCs too, and come back unanswered from a follower.
#include "kvs/client/batcher.h"

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "absl/strings/str_split.h"
#include "common/grpc_tls.h"
#include "gtest/gtest.h"
#include "kvs/client/async_reads.h"
#include "kvs/client/replica_group_client.h"
#include "tests/support/kvs_group.h"

namespace penncloud::kvs {
namespace {

using penncloud::testing::KvsGroup;

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto group = KvsGroup::Start();
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = *std::move(group);
    auto leader = group_->Leader();
    ASSERT_TRUE(leader.ok()) << leader.status();
    leader_ = *leader;
  }

  std::unique_ptr<pb::KvsService::Stub> StubOf(int i) {
    return pb::KvsService::NewStub(
        grpc::CreateChannel(group_->address(i), tls::ChannelCredentials()));
  }

  uint64_t RequestsServed(int i) {
    pb::StatusResponse status;
    grpc::ClientContext context;
    EXPECT_TRUE(StubOf(i)->Status(&context, pb::StatusRequest(), &status).ok());
    return status.client_requests_total();
  }

  static pb::WriteRequest Put(const std::string& row, const std::string& value, uint64_t session,
                              uint64_t seq, pb::Op op = pb::OP_PUT) {
    pb::WriteRequest w;
    pb::Command* c = w.mutable_command();
    c->set_op(op);
    c->set_row(row);
    c->set_column("c");
    c->set_value(value);
    c->set_session(session);
    c->set_seq(seq);
    if (op == pb::OP_CPUT) c->set_expect_absent(true);
    return w;
  }

  std::unique_ptr<KvsGroup> group_;
  int leader_ = 0;
};

TEST_F(BatchTest, ConcurrentCallsOfOneClientShareRpcs) {
  ReplicaGroupClient client(absl::StrSplit(group_->spec(), ','));
  ASSERT_TRUE(client.Put("warm", "c", "up").ok());  // finds the leader
  const uint64_t before = RequestsServed(leader_);
  constexpr int kThreads = 16;
  constexpr int kWrites = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        const std::string row = "row" + std::to_string(t);
        if (!client.Put(row, "c", std::to_string(i)).ok()) ++failures;
        auto got = client.Get(row, "c");
        if (!got.ok() || *got != std::to_string(i)) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  // 1,280 calls; every one that waited behind two in-flight batches shared an RPC.
  const uint64_t rpcs = RequestsServed(leader_) - before - 1;  // minus our Status call
  EXPECT_LT(rpcs, static_cast<uint64_t>(kThreads * kWrites * 2) * 3 / 4) << rpcs << " RPCs";
  for (int t = 0; t < kThreads; ++t) {
    auto got = client.Get("row" + std::to_string(t), "c");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, std::to_string(kWrites - 1));
  }
}

TEST_F(BatchTest, EachItemIsJudgedAlone) {
  pb::BatchRequest request;
  *request.add_writes() = Put("good", "v", 77, 1);
  *request.add_writes() = Put("", "v", 77, 2);                                      // empty row
  *request.add_writes() = Put("big", std::string(kMaxValueBytes + 1, 'x'), 77, 3);  // too big
  request.add_gets()->set_row("good");
  request.mutable_gets(0)->set_column("c");
  request.add_gets()->set_row("");  // empty row
  pb::BatchResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(StubOf(leader_)->Batch(&context, request, &response).ok());
  ASSERT_EQ(response.write_status_size(), 3);
  ASSERT_EQ(response.get_status_size(), 2);
  EXPECT_EQ(response.write_status(0).code(), 0) << response.write_status(0).message();
  EXPECT_EQ(response.write_status(1).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response.write_status(2).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(response.write_status(2).message().find("exceeds"), std::string::npos);
  EXPECT_EQ(response.get_status(1).code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The get went to the loop with the write and may have been served before it applied;
  // either way it is answered, and a later read sees the write.
  EXPECT_EQ(response.get_status(0).code(), 0);
  ReplicaGroupClient client(absl::StrSplit(group_->spec(), ','));
  auto got = client.Get("good", "c");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "v");
  EXPECT_TRUE(absl::IsNotFound(client.Get("big", "c").status()));
}

TEST_F(BatchTest, AFollowerRefusesWithAHintAndDoesNothing) {
  const int follower = (leader_ + 1) % group_->size();
  pb::BatchRequest request;
  *request.add_writes() = Put("from-follower", "v", 78, 1);
  pb::BatchResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(StubOf(follower)->Batch(&context, request, &response).ok());
  EXPECT_TRUE(response.hint().not_leader());
  EXPECT_EQ(response.hint().leader(), group_->address(leader_));
  EXPECT_EQ(response.write_status_size(), 0);
  ReplicaGroupClient client(absl::StrSplit(group_->spec(), ','));
  EXPECT_TRUE(absl::IsNotFound(client.Get("from-follower", "c").status()));
}

TEST_F(BatchTest, ABatchSentTwiceIsAppliedOnce) {
  pb::BatchRequest request;
  *request.add_writes() = Put("once", "first", 79, 1, pb::OP_CPUT);
  for (int attempt = 0; attempt < 2; ++attempt) {
    pb::BatchResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ASSERT_TRUE(StubOf(leader_)->Batch(&context, request, &response).ok());
    ASSERT_EQ(response.write_status_size(), 1);
    EXPECT_EQ(response.write_status(0).code(), 0);
    // The copy gets the remembered answer of the first apply, not a second evaluation.
    EXPECT_TRUE(response.writes(0).cput_succeeded()) << "attempt " << attempt;
  }
  pb::BatchRequest again;
  *again.add_writes() = Put("once", "second", 79, 2, pb::OP_CPUT);
  pb::BatchResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(StubOf(leader_)->Batch(&context, again, &response).ok());
  EXPECT_FALSE(response.writes(0).cput_succeeded());  // a new request: the cell exists
  ReplicaGroupClient client(absl::StrSplit(group_->spec(), ','));
  EXPECT_EQ(*client.Get("once", "c"), "first");
}

// What a read started with StartGet ends with, waited for.
StartedGet Started(Client& client, std::string_view row, std::string_view column) {
  std::promise<StartedGet> read;
  client.StartGet(row, column, [&read](StartedGet got) { read.set_value(std::move(got)); });
  return read.get_future().get();
}

TEST_F(BatchTest, StartGetAnswersAsGet) {
  ReplicaGroupClient client(absl::StrSplit(group_->spec(), ','));
  ASSERT_TRUE(client.Put("row", "c", "v").ok());  // also finds the leader
  StartedGet got = Started(client, "row", "c");
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->status();
  EXPECT_EQ(**got, "v");

  got = Started(client, "row", "absent");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(absl::IsNotFound(got->status())) << got->status();

  got = Started(client, "", "c");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(absl::IsInvalidArgument(got->status())) << got->status();

  // A write acknowledged is seen by the next read.
  ASSERT_TRUE(client.Put("row", "c", "w").ok());
  got = Started(client, "row", "c");
  ASSERT_TRUE(got.has_value() && got->ok());
  EXPECT_EQ(**got, "w");
}

TEST_F(BatchTest, ReadsStartedWithoutWaitingShareRpcs) {
  ReplicaGroupClient client(absl::StrSplit(group_->spec(), ','));
  ASSERT_TRUE(client.Put("shared", "c", "v").ok());
  const uint64_t before = RequestsServed(leader_);
  constexpr int kReads = 300;
  std::mutex mu;
  std::condition_variable all_done;
  int done = 0;
  int right = 0;
  for (int i = 0; i < kReads; ++i) {
    client.StartGet("shared", "c", [&](StartedGet got) {
      std::lock_guard lock(mu);
      if (got.has_value() && got->ok() && **got == "v") ++right;
      if (++done == kReads) all_done.notify_one();
    });
  }
  {
    std::unique_lock lock(mu);
    all_done.wait(lock, [&] { return done == kReads; });
  }
  EXPECT_EQ(right, kReads);
  // At most two batches on the wire: everything started behind them left in a few more.
  const uint64_t rpcs = RequestsServed(leader_) - before - 1;  // minus our Status call
  EXPECT_LT(rpcs, static_cast<uint64_t>(kReads / 4)) << rpcs << " RPCs";
}

TEST_F(BatchTest, AFollowersRefusalOfAStartedReadComesBackUnanswered) {
  ReplicaGroupClient client(absl::StrSplit(group_->spec(), ','));
  ASSERT_TRUE(client.Put("row", "c", "v").ok());
  auto follower = StubOf((leader_ + 1) % group_->size());
  auto leader = StubOf(leader_);
  for (pb::KvsService::Stub* stub : {follower.get(), leader.get()}) {
    std::promise<AsyncReads::Result> read;
    {
      AsyncReads reads([stub] { return stub; }, AsyncReads::Options{});
      pb::GetRequest request;
      request.set_row("row");
      request.set_column("c");
      reads.Start(request, [&read](AsyncReads::Result r) { read.set_value(std::move(r)); });
    }  // waits for the batch on the wire
    AsyncReads::Result result = read.get_future().get();
    if (stub == follower.get()) {
      EXPECT_FALSE(result.answered);
    } else {
      ASSERT_TRUE(result.answered);
      EXPECT_TRUE(result.status.ok()) << result.status.error_message();
      EXPECT_EQ(result.response.value(), "v");
    }
  }
}

}  // namespace
}  // namespace penncloud::kvs
