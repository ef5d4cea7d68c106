#include "kvs/shard/rebalancer_lease.h"

#include <memory>

#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::kvs::shard {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(RebalancerLeaseTest, OneHolderAtATimeUntilReleaseOrExpiry) {
  MemoryClient config;
  RebalancerLease a(config, "kvsctl", absl::Seconds(10));
  RebalancerLease b(config, "admin-console", absl::Seconds(10));
  ASSERT_TRUE(a.Acquire(kT0).ok());
  EXPECT_TRUE(a.Acquire(kT0 + absl::Seconds(1)).ok());  // ours already
  absl::Status taken = b.Acquire(kT0 + absl::Seconds(2));
  EXPECT_TRUE(absl::IsFailedPrecondition(taken)) << taken;
  EXPECT_NE(taken.message().find("kvsctl#"), std::string::npos) << taken;
  auto holder = ReadLease(config);
  ASSERT_TRUE(holder.ok() && holder->has_value());
  EXPECT_EQ((*holder)->owner, a.owner());
  EXPECT_EQ((*holder)->expiry, kT0 + absl::Seconds(11));

  a.Release();
  EXPECT_FALSE(ReadLease(config)->has_value());
  ASSERT_TRUE(b.Acquire(kT0 + absl::Seconds(3)).ok());
  // b stalls past its expiry; a takes over; b learns it at its next renewal.
  ASSERT_TRUE(a.Acquire(kT0 + absl::Seconds(14)).ok());
  absl::Status lost = b.Renew(kT0 + absl::Seconds(15));
  EXPECT_TRUE(absl::IsAborted(lost)) << lost;
  EXPECT_FALSE(b.held());
  EXPECT_EQ((*ReadLease(config))->owner, a.owner());
}

TEST(RebalancerLeaseTest, RenewalExtendsOnlyPastHalfTheTerm) {
  MemoryClient config;
  RebalancerLease a(config, "kvsctl", absl::Seconds(10));
  ASSERT_TRUE(a.Acquire(kT0).ok());
  ASSERT_TRUE(a.Renew(kT0 + absl::Seconds(2)).ok());
  EXPECT_EQ((*ReadLease(config))->expiry, kT0 + absl::Seconds(10));  // no write yet
  ASSERT_TRUE(a.Renew(kT0 + absl::Seconds(6)).ok());
  EXPECT_EQ((*ReadLease(config))->expiry, kT0 + absl::Seconds(16));
  RebalancerLease b(config, "kvsctl", absl::Seconds(10));  // same name, another process
  EXPECT_NE(a.owner(), b.owner());
  EXPECT_FALSE(b.Acquire(kT0 + absl::Seconds(7)).ok());
}

}  // namespace
}  // namespace penncloud::kvs::shard
