#include "mail/address_limits.h"

#include "gtest/gtest.h"

namespace penncloud::mail {
namespace {

using std::chrono::seconds;

class AddressLimitsTest : public ::testing::Test {
 protected:
  AddressLimits Make(int connections, int attempts) {
    return AddressLimits({.max_connections = connections, .login_attempts_per_minute = attempts},
                         [this] { return now_; });
  }
  std::chrono::steady_clock::time_point now_{};
};

TEST_F(AddressLimitsTest, ConnectionsPerAddress) {
  AddressLimits limits = Make(2, 0);
  EXPECT_TRUE(limits.OpenConnection("10.0.0.1"));
  EXPECT_TRUE(limits.OpenConnection("10.0.0.1"));
  EXPECT_FALSE(limits.OpenConnection("10.0.0.1"));
  EXPECT_TRUE(limits.OpenConnection("10.0.0.2"));  // another address has its own count
  limits.CloseConnection("10.0.0.1");
  EXPECT_TRUE(limits.OpenConnection("10.0.0.1"));
  EXPECT_FALSE(limits.OpenConnection("10.0.0.1"));
  limits.CloseConnection("10.0.0.9");  // never opened: no effect
  EXPECT_FALSE(limits.OpenConnection("10.0.0.1"));
}

TEST_F(AddressLimitsTest, NoCapsWhenZero) {
  AddressLimits limits = Make(0, 0);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(limits.OpenConnection("10.0.0.1"));
    ASSERT_TRUE(limits.AllowLoginAttempt("10.0.0.1"));
  }
}

TEST_F(AddressLimitsTest, LoginAttemptsAreABucketPerMinute) {
  AddressLimits limits = Make(0, 6);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(limits.AllowLoginAttempt("10.0.0.1")) << i;
  EXPECT_FALSE(limits.AllowLoginAttempt("10.0.0.1"));
  EXPECT_TRUE(limits.AllowLoginAttempt("10.0.0.2"));
  // Six a minute: one more every ten seconds, never more than six saved up.
  now_ += seconds(9);
  EXPECT_FALSE(limits.AllowLoginAttempt("10.0.0.1"));
  now_ += seconds(1);
  EXPECT_TRUE(limits.AllowLoginAttempt("10.0.0.1"));
  EXPECT_FALSE(limits.AllowLoginAttempt("10.0.0.1"));
  now_ += seconds(3600);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(limits.AllowLoginAttempt("10.0.0.1")) << i;
  EXPECT_FALSE(limits.AllowLoginAttempt("10.0.0.1"));
}

}  // namespace
}  // namespace penncloud::mail
