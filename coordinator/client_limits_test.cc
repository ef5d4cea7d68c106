#include "coordinator/client_limits.h"

#include "gtest/gtest.h"

namespace penncloud::coordinator {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using Clock = ClientLimits::Clock;

TEST(ClassifyRequest, LoginsSignUpsAndBasicAuth) {
  EXPECT_EQ(ClassifyRequest("POST", "/api/login", false), LimitedKind::kLogin);
  EXPECT_EQ(ClassifyRequest("POST", "/api/login/code", false), LimitedKind::kLogin);
  EXPECT_EQ(ClassifyRequest("POST", "/api/signup", false), LimitedKind::kSignup);
  EXPECT_EQ(ClassifyRequest("PROPFIND", "/dav/x", true), LimitedKind::kBasicAuth);
  EXPECT_EQ(ClassifyRequest("GET", "/api/login", false), LimitedKind::kNone);
  EXPECT_EQ(ClassifyRequest("GET", "/api/me", false), LimitedKind::kNone);
}

TEST(ClientLimits, ConnectionsPerAddress) {
  ClientLimits limits({.max_connections = 2});
  EXPECT_TRUE(limits.OpenConnection("10.0.0.1"));
  EXPECT_TRUE(limits.OpenConnection("10.0.0.1"));
  EXPECT_FALSE(limits.OpenConnection("10.0.0.1"));
  EXPECT_TRUE(limits.OpenConnection("10.0.0.2"));  // another address is not affected
  limits.CloseConnection("10.0.0.1");
  EXPECT_TRUE(limits.OpenConnection("10.0.0.1"));
}

TEST(ClientLimits, FailedLoginsLockTheAddressOutUntilTheyAge) {
  ClientLimits limits({.login_failures = 3, .failure_window = minutes(10)});
  Clock::time_point t = Clock::now();
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(limits.Admit("a", LimitedKind::kLogin, t + seconds(i)));
    limits.Answered("a", LimitedKind::kLogin, 401, t + seconds(i));
  }
  std::optional<int> wait = limits.Admit("a", LimitedKind::kLogin, t + seconds(5));
  ASSERT_TRUE(wait);
  EXPECT_GT(*wait, 500);  // until the first failure is 10 minutes old
  // WebDAV guesses from that address are refused too; other addresses are not.
  EXPECT_TRUE(limits.Admit("a", LimitedKind::kBasicAuth, t + seconds(5)));
  EXPECT_FALSE(limits.Admit("b", LimitedKind::kLogin, t + seconds(5)));
  limits.Answered("b", LimitedKind::kLogin, 200, t + seconds(5));
  // Once the oldest failure ages out, one more try is allowed.
  EXPECT_FALSE(limits.Admit("a", LimitedKind::kLogin, t + minutes(10) + seconds(1)));
}

TEST(ClientLimits, SuccessesAndOtherAnswersAreNotFailures) {
  ClientLimits limits({.login_failures = 2});
  Clock::time_point t = Clock::now();
  for (int status : {200, 429, 503, 0, 200}) {
    ASSERT_FALSE(limits.Admit("a", LimitedKind::kLogin, t));
    limits.Answered("a", LimitedKind::kLogin, status, t);
  }
  EXPECT_FALSE(limits.Admit("a", LimitedKind::kBasicAuth, t));
  limits.Answered("a", LimitedKind::kBasicAuth, 207, t);
  EXPECT_FALSE(limits.Admit("a", LimitedKind::kLogin, t));
}

// Parallel guesses cannot all be in flight at once: the next waits for one to finish.
TEST(ClientLimits, LoginsInFlightPerAddress) {
  ClientLimits limits({.concurrent_logins = 2});
  Clock::time_point t = Clock::now();
  EXPECT_FALSE(limits.Admit("a", LimitedKind::kLogin, t));
  EXPECT_FALSE(limits.Admit("a", LimitedKind::kSignup, t));
  EXPECT_TRUE(limits.Admit("a", LimitedKind::kLogin, t));
  limits.Answered("a", LimitedKind::kLogin, 401, t);
  EXPECT_FALSE(limits.Admit("a", LimitedKind::kLogin, t));
  // WebDAV requests are many and parallel by nature: not capped in flight.
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(limits.Admit("a", LimitedKind::kBasicAuth, t));
}

TEST(ClientLimits, SignUpsPerHour) {
  ClientLimits limits({.signups_per_hour = 2});
  Clock::time_point t = Clock::now();
  for (int i = 0; i < 2; ++i) {
    ASSERT_FALSE(limits.Admit("a", LimitedKind::kSignup, t));
    limits.Answered("a", LimitedKind::kSignup, 201, t);
  }
  std::optional<int> wait = limits.Admit("a", LimitedKind::kSignup, t + minutes(1));
  ASSERT_TRUE(wait);
  EXPECT_NEAR(*wait, 59 * 60, 2);
  EXPECT_FALSE(limits.Admit("a", LimitedKind::kLogin, t + minutes(1)));  // logins still work
  limits.Answered("a", LimitedKind::kLogin, 200, t + minutes(1));
  EXPECT_FALSE(limits.Admit("a", LimitedKind::kSignup, t + minutes(61)));
}

// Addresses that failed once and never came back are forgotten once their failures age
// out, so many addresses cannot grow the table without bound.
TEST(ClientLimits, ForgetsAddressesWhoseCountsAgedOut) {
  ClientLimits limits({.failure_window = minutes(10)});
  Clock::time_point t = Clock::now();
  for (int i = 0; i < 3000; ++i) {
    std::string address = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    ASSERT_FALSE(limits.Admit(address, LimitedKind::kLogin, t));
    limits.Answered(address, LimitedKind::kLogin, 401, t);
  }
  EXPECT_EQ(limits.TrackedAddresses(), 3000u);
  for (int i = 0; i < 2048; ++i) {
    ASSERT_FALSE(limits.Admit("10.9.9.9", LimitedKind::kBasicAuth, t + minutes(11)));
    limits.Answered("10.9.9.9", LimitedKind::kBasicAuth, 207, t + minutes(11));
  }
  EXPECT_LE(limits.TrackedAddresses(), 1u);
}

TEST(ClientLimits, ZeroMeansNoCap) {
  ClientLimits limits({.max_connections = 0,
                       .login_failures = 0,
                       .concurrent_logins = 1000,
                       .signups_per_hour = 0});
  Clock::time_point t = Clock::now();
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(limits.OpenConnection("a"));
    EXPECT_FALSE(limits.Admit("a", LimitedKind::kSignup, t));
    limits.Answered("a", LimitedKind::kSignup, 401, t);
  }
}

}  // namespace
}  // namespace penncloud::coordinator
