// The KVS client and a request's write budget (common/write_deadline.h): every write made
// under a budget carries its end as Command.apply_by_ms (also in a batch another thread
// sends), is retried only until then, and a replica's "too late" refusal reaches the caller
// as a definite "not applied" only when no earlier attempt can be in a log.
#include "common/write_deadline.h"

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/replica_group_client.h"
#include "tests/support/test_pki.h"

namespace penncloud::kvs {
namespace {

using std::chrono::milliseconds;

class TestCertificates : public ::testing::Environment {
 public:
  void SetUp() override { testing::TestPki::Shared(); }
};
const auto* const kCertificates = ::testing::AddGlobalTestEnvironment(new TestCertificates);

int64_t UnixMsNow() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One replica that records every write it receives (alone or in a batch) and answers
// Write calls from a script (then OK, or `fail` forever). It serves Batch only if asked.
class RecordingReplica final : public pb::KvsService::Service {
 public:
  struct Seen {
    std::string row;
    int64_t apply_by_ms;
    int batch;  // -1: a Write call of its own
  };
  RecordingReplica(std::deque<grpc::Status> script, bool batches,
                   grpc::Status fail = grpc::Status::OK)
      : script_(std::move(script)), batches_(batches), fail_(std::move(fail)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", tls::ServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~RecordingReplica() override { server_->Shutdown(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  grpc::Status Write(grpc::ServerContext*, const pb::WriteRequest* request,
                     pb::WriteResponse*) override {
    std::lock_guard lock(mu_);
    seen_.push_back(Seen{request->command().row(), request->command().apply_by_ms(), -1});
    if (script_.empty()) return fail_;
    grpc::Status next = script_.front();
    script_.pop_front();
    return next;
  }

  // Answers every write OK, a little slowly, so that callers queue behind the batches on
  // the wire and the next batch carries several callers' writes.
  grpc::Status Batch(grpc::ServerContext*, const pb::BatchRequest* request,
                     pb::BatchResponse* response) override {
    if (!batches_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no batches");
    std::this_thread::sleep_for(milliseconds(10));
    std::lock_guard lock(mu_);
    for (const pb::WriteRequest& w : request->writes()) {
      seen_.push_back(Seen{w.command().row(), w.command().apply_by_ms(), batches_seen_});
      response->add_writes();
      response->add_write_status();
    }
    ++batches_seen_;
    return grpc::Status::OK;
  }

  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::deque<grpc::Status> script_;  // GUARDED_BY(mu_)
  std::vector<Seen> seen_;           // GUARDED_BY(mu_)
  int batches_seen_ = 0;             // GUARDED_BY(mu_)
  const bool batches_;
  const grpc::Status fail_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

const grpc::Status kTooLate(grpc::StatusCode::FAILED_PRECONDITION, kWriteTooLate);

// A client whose batcher has learned that the fake serves no batches, so that the first
// write goes out as a Write call whose failure counts as that write's own.
void SkipBatches(ReplicaGroupClient& client) { (void)client.Get("r", "c"); }

TEST(WriteDeadlineTest, EveryKindOfWriteCarriesTheBudgetsEnd) {
  RecordingReplica replica({}, /*batches=*/false);
  ReplicaGroupClient client({replica.address()});
  SkipBatches(client);
  ASSERT_TRUE(client.Put("free", "c", "v").ok());  // no budget: no deadline
  const int64_t before = UnixMsNow();
  {
    write_deadline::Scope scope(milliseconds(20000));
    ASSERT_TRUE(client.Put("put", "c", "v").ok());
    ASSERT_TRUE(client.CPut("cput", "c", std::nullopt, "v").ok());
    ASSERT_TRUE(client.Delete("delete", "c").ok());
    ASSERT_TRUE(client.CDelete("cdelete", "c", "v").ok());
  }
  const int64_t after = UnixMsNow();
  std::vector<RecordingReplica::Seen> seen = replica.seen();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].apply_by_ms, 0);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].apply_by_ms, before + 20000 - 5) << seen[i].row;
    EXPECT_LE(seen[i].apply_by_ms, after + 20000 + 5) << seen[i].row;
  }
}

TEST(WriteDeadlineTest, TheDeadlineTravelsWithItsWriteInABatchAnotherThreadSends) {
  RecordingReplica replica({}, /*batches=*/true);
  ReplicaGroupClient client({replica.address()});
  constexpr int kThreads = 8;
  constexpr int kWrites = 20;
  // Budgets 5 s apart, so a write labelled with another caller's deadline stands out.
  std::vector<int64_t> expected(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      expected[t] = UnixMsNow() + (t + 1) * 5000;
      write_deadline::Scope scope(milliseconds((t + 1) * 5000));
      for (int i = 0; i < kWrites; ++i) {
        if (!client.Put("row" + std::to_string(t), "c", "v").ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<RecordingReplica::Seen> seen = replica.seen();
  ASSERT_EQ(seen.size(), static_cast<size_t>(kThreads * kWrites));
  std::map<int, std::set<std::string>> rows_of_batch;
  for (const RecordingReplica::Seen& s : seen) {
    ASSERT_GE(s.batch, 0) << "a write left outside a batch";
    rows_of_batch[s.batch].insert(s.row);
    const int t = std::stoi(s.row.substr(3));
    EXPECT_NEAR(static_cast<double>(s.apply_by_ms), static_cast<double>(expected[t]), 1000)
        << s.row;
  }
  size_t most_callers = 0;
  for (const auto& [batch, rows] : rows_of_batch)
    most_callers = std::max(most_callers, rows.size());
  EXPECT_GE(most_callers, 2u) << "no batch carried writes of two callers";
}

TEST(WriteDeadlineTest, RetriesStopWhenTheBudgetEnds) {
  RecordingReplica replica({}, /*batches=*/false,
                           grpc::Status(grpc::StatusCode::UNAVAILABLE, "no leader"));
  ReplicaGroupClient client({replica.address()});  // retries for 10 s without a budget
  SkipBatches(client);
  write_deadline::Scope scope(milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  absl::Status put = client.Put("r", "c", "v");
  EXPECT_TRUE(absl::IsDeadlineExceeded(put)) << put;
  EXPECT_TRUE(absl::StrContains(put.message(), "outcome unknown")) << put;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST(WriteDeadlineTest, ARefusalOfTheOnlyAttemptMeansNotApplied) {
  RecordingReplica replica({kTooLate}, /*batches=*/false);
  ReplicaGroupClient client({replica.address()});
  SkipBatches(client);
  write_deadline::Scope scope(milliseconds(5000));
  absl::Status put = client.Put("r", "c", "v");
  EXPECT_TRUE(absl::IsFailedPrecondition(put)) << put;
  EXPECT_TRUE(absl::StartsWith(put.message(), kWriteTooLate)) << put;
  EXPECT_EQ(replica.seen().size(), 1u);
  EXPECT_TRUE(client.Put("r", "c", "w").ok());  // the session goes on
}

TEST(WriteDeadlineTest, ARefusalAfterAFailedAttemptIsAnUnknownOutcome) {
  // The first attempt may be in a leader's log: the refusal of the retry settles nothing.
  RecordingReplica replica(
      {grpc::Status(grpc::StatusCode::UNAVAILABLE, "leadership lost"), kTooLate},
      /*batches=*/false);
  ReplicaGroupOptions options;
  options.initial_backoff = milliseconds(1);
  ReplicaGroupClient client({replica.address()}, options);
  SkipBatches(client);
  write_deadline::Scope scope(milliseconds(5000));
  absl::Status put = client.Put("r", "c", "v");
  EXPECT_TRUE(absl::IsDeadlineExceeded(put)) << put;
  EXPECT_TRUE(absl::StrContains(put.message(), "outcome unknown")) << put;
  EXPECT_EQ(replica.seen().size(), 2u);
}

TEST(WriteDeadlineTest, AWriteWhoseBudgetRanOutIsNotSent) {
  RecordingReplica replica({}, /*batches=*/false);
  ReplicaGroupClient client({replica.address()});
  write_deadline::Scope scope(milliseconds(1));
  for (int i = 0; i < 1000 && !write_deadline::Passed(); ++i) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_TRUE(write_deadline::Passed());
  absl::Status put = client.Put("r", "c", "v");
  EXPECT_TRUE(absl::IsFailedPrecondition(put)) << put;
  EXPECT_TRUE(absl::StartsWith(put.message(), kWriteTooLate)) << put;
  EXPECT_TRUE(replica.seen().empty());
}

}  // namespace
}  // namespace penncloud::kvs
