#include "kvs/client/replica_group_client.h"

#include <deque>
#include <mutex>

#include "absl/strings/match.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"

namespace penncloud::kvs {
namespace {

// Clients and the scripted replica speak mutual TLS with the test CA's certificates.
class TestCertificates : public ::testing::Environment {
 public:
  void SetUp() override { testing::TestPki::Shared(); }
};
const auto* const kCertificates = ::testing::AddGlobalTestEnvironment(new TestCertificates);

// One replica that answers writes from a script (then OK) and records each request's
// at-most-once id, to see what the client does with a "session expired" answer.
class ScriptedReplica final : public pb::KvsService::Service {
 public:
  explicit ScriptedReplica(std::deque<grpc::Status> script, int port = 0)
      : script_(std::move(script)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), tls::ServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~ScriptedReplica() override { server_->Shutdown(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  grpc::Status Write(grpc::ServerContext*, const pb::WriteRequest* request,
                     pb::WriteResponse*) override {
    std::lock_guard lock(mu_);
    seen_.emplace_back(request->command().session(), request->command().seq());
    if (script_.empty()) return grpc::Status::OK;
    grpc::Status next = script_.front();
    script_.pop_front();
    return next;
  }
  std::vector<std::pair<uint64_t, uint64_t>> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::deque<grpc::Status> script_;                  // GUARDED_BY(mu_)
  std::vector<std::pair<uint64_t, uint64_t>> seen_;  // GUARDED_BY(mu_)
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

const grpc::Status kExpired(grpc::StatusCode::FAILED_PRECONDITION,
                            std::string(kSessionExpired) + ": not applied");

TEST(ReplicaGroupClientTest, AnExpiredSessionOnTheFirstAttemptIsReplacedAndTheWriteSent) {
  ScriptedReplica replica({kExpired});
  ReplicaGroupClient client({replica.address()});
  // Connect first (the fake does not serve reads): an attempt that failed to connect is
  // conservatively counted as one that may have reached a log.
  (void)client.Get("r", "c");
  absl::Status put = client.Put("r", "c", "v");
  ASSERT_TRUE(put.ok()) << put << " after " << replica.seen().size() << " requests";
  auto seen = replica.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(seen[0].first, seen[1].first);  // a fresh session
  EXPECT_EQ(seen[1].second, 1u);
  // The dropped session is not used again.
  ASSERT_TRUE(client.Put("r", "c", "w").ok());
  EXPECT_NE(replica.seen()[2].first, seen[0].first);
}

TEST(ReplicaGroupClientTest, AnExpiredSessionAfterAFailedAttemptIsAnUnknownOutcome) {
  // The first attempt failed in a way that may have reached the log; the retry then finds
  // the session expired: sending it again under a new session could apply it twice.
  ScriptedReplica replica(
      {grpc::Status(grpc::StatusCode::UNAVAILABLE, "leadership lost"), kExpired});
  ReplicaGroupOptions options;
  options.initial_backoff = std::chrono::milliseconds(1);
  ReplicaGroupClient client({replica.address()}, options);
  absl::Status s = client.Put("r", "c", "v");
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "outcome unknown")) << s;
  auto seen = replica.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], seen[1]);  // the retry, not a new request
  ASSERT_TRUE(client.Put("r", "c", "w").ok());
  EXPECT_NE(replica.seen()[2].first, seen[0].first);
}

TEST(ReplicaGroupClientTest, AMethodTheReplicaLacksFailsAtOnce) {
  ScriptedReplica replica({});  // serves Write only
  ReplicaGroupClient client({replica.address()});
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> got = client.Get("r", "c");
  EXPECT_TRUE(absl::IsUnimplemented(got.status())) << got.status();
  // One attempt, not retries until the 10 s deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

// A replica that refused the client's first connections (not up yet, or restarting) is
// used soon after it is back: the channel reconnects within the client's back-off.
TEST(ReplicaGroupClientTest, AReplicaBackAfterRefusingIsReachedAtOnce) {
  const int port = penncloud::testing::FreePort();
  ReplicaGroupOptions options;
  options.deadline = std::chrono::milliseconds(300);
  ReplicaGroupClient early({"127.0.0.1:" + std::to_string(port)}, options);
  EXPECT_TRUE(absl::IsUnavailable(early.Put("r", "c", "v")));  // refused: nothing listens
  ScriptedReplica replica({}, port);
  ASSERT_EQ(replica.address(), "127.0.0.1:" + std::to_string(port));
  const auto started = std::chrono::steady_clock::now();
  absl::Status put = absl::UnavailableError("not tried");
  for (int i = 0; i < 100 && !put.ok(); ++i) put = early.Put("r", "c", "v");
  EXPECT_TRUE(put.ok()) << put;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(ConnectTest, RejectsMalformedSpecs) {
  EXPECT_TRUE(absl::IsInvalidArgument(Connect("").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Connect(" , ").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Connect("127.0.0.1:1,nonsense").status()));
  EXPECT_TRUE(Connect("127.0.0.1:7011, 127.0.0.1:7012").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(Connect("config=").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Connect("config=nonsense").status()));
}

TEST(ConnectTest, ConfigSpecGivesAShardedClientWithoutContactingAnything) {
  auto plain = Connect("127.0.0.1:7011");
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(dynamic_cast<ReplicaGroupClient*>(plain->get()), nullptr);
  // Nothing listens there: connecting still succeeds, as with the plain form, because the
  // map is only read on the first call.
  const std::string config = "127.0.0.1:" + std::to_string(penncloud::testing::FreePort());
  auto sharded = Connect(" config=" + config);
  ASSERT_TRUE(sharded.ok()) << sharded.status();
  EXPECT_EQ(dynamic_cast<ReplicaGroupClient*>(sharded->get()), nullptr);
}

TEST(ReplicaGroupClientTest, UnreachableGroupIsUnavailableWithinTheDeadline) {
  const int a = penncloud::testing::FreePort();
  const int b = penncloud::testing::FreePort();
  ReplicaGroupOptions options;
  options.deadline = std::chrono::milliseconds(400);
  options.attempt_timeout = std::chrono::milliseconds(100);
  const std::string spec_a = "127.0.0.1:" + std::to_string(a);
  ReplicaGroupClient client({spec_a, "127.0.0.1:" + std::to_string(b)}, options);
  const auto start = std::chrono::steady_clock::now();
  absl::Status s = client.Put("r", "c", "v");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find(spec_a), std::string::npos) << s;  // names the group
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_TRUE(absl::IsUnavailable(client.Get("r", "c").status()));
}

TEST(ReplicaGroupClientTest, BadArgumentsFailFastWithoutTheNetwork) {
  ReplicaGroupOptions options;
  options.deadline = std::chrono::seconds(30);  // a network attempt would block the test
  ReplicaGroupClient client({"127.0.0.1:1"}, options);
  EXPECT_TRUE(absl::IsInvalidArgument(client.Put("", "c", "v")));
  EXPECT_TRUE(absl::IsInvalidArgument(client.Put(std::string(kMaxKeyBytes + 1, 'r'), "c", "v")));
  EXPECT_TRUE(absl::IsInvalidArgument(client.Put("r", "c", std::string(kMaxValueBytes + 1, 'v'))));
  EXPECT_TRUE(
      absl::IsInvalidArgument(client.Get("r", std::string(kMaxKeyBytes + 1, 'c')).status()));
  ListOptions list;
  list.limit = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(client.List("r", list).status()));
}

}  // namespace
}  // namespace penncloud::kvs
