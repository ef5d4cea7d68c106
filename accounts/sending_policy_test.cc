#include "accounts/sending_policy.h"

#include "accounts/accounts.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::accounts {
namespace {

class SendingPolicyTest : public ::testing::Test {
 protected:
  SendingPolicyTest()
      : accounts_(&store_, Options{.hash_params = kTestHashParams, .now = [this] { return now_; }}),
        policy_(&store_, [this] { return now_; }) {}

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  kvs::MemoryClient store_;
  Accounts accounts_;
  SendingPolicy policy_;
};

TEST_F(SendingPolicyTest, NewAccountsWaitUnlessAllowed) {
  ASSERT_TRUE(accounts_.SignUp("nina", "password1").ok());
  EXPECT_FALSE(policy_.MaySendOutside("nina").value());
  now_ += absl::Hours(24 * kDefaultWaitDays) - absl::Seconds(1);
  EXPECT_FALSE(policy_.MaySendOutside("Nina").value());
  now_ += absl::Seconds(1);
  EXPECT_TRUE(policy_.MaySendOutside("nina").value());
}

TEST_F(SendingPolicyTest, AnAdminAllowsOneAccountOrChangesTheWait) {
  ASSERT_TRUE(accounts_.SignUp("omar", "password1").ok());
  ASSERT_TRUE(accounts_.SignUp("pia", "password1").ok());
  ASSERT_TRUE(policy_.SetAllowed("omar", true).ok());
  EXPECT_TRUE(policy_.MaySendOutside("omar").value());
  EXPECT_FALSE(policy_.MaySendOutside("pia").value());
  ASSERT_TRUE(policy_.SetAllowed("omar", false).ok());
  EXPECT_FALSE(policy_.MaySendOutside("omar").value());
  ASSERT_TRUE(policy_.SetWaitDays(0).ok());
  EXPECT_TRUE(policy_.MaySendOutside("pia").value());
  ASSERT_TRUE(policy_.SetWaitDays(2).ok());
  EXPECT_EQ(policy_.WaitDays().value(), 2);
  now_ += absl::Hours(48);
  EXPECT_TRUE(policy_.MaySendOutside("pia").value());
  EXPECT_TRUE(absl::IsInvalidArgument(policy_.SetWaitDays(-1)));
}

TEST_F(SendingPolicyTest, AdminsOldAccountsAndStrangers) {
  ASSERT_TRUE(accounts_.SignUp("root", "password1", /*admin=*/true).ok());
  EXPECT_TRUE(policy_.MaySendOutside("root").value());
  // An account from before sign-up recorded the time.
  ASSERT_TRUE(store_.Put("acct/olga", "password", "x").ok());
  EXPECT_TRUE(policy_.MaySendOutside("olga").value());
  EXPECT_FALSE(policy_.MaySendOutside("ghost").value());
  EXPECT_FALSE(policy_.MaySendOutside("!!").value());
  store_.SetUnavailable(true);
  EXPECT_TRUE(absl::IsUnavailable(policy_.MaySendOutside("root").status()));
}

}  // namespace
}  // namespace penncloud::accounts
