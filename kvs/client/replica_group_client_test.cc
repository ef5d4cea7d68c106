#include "kvs/client/replica_group_client.h"

#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "tests/support/process.h"

namespace penncloud::kvs {
namespace {

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
