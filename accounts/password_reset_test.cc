#include "accounts/password_reset.h"

#include "accounts/accounts_fixture.h"
#include "accounts/tokens.h"
#include "gtest/gtest.h"

namespace penncloud::accounts {
namespace {

class PasswordResetTest : public AccountsTest {
 protected:
  PasswordResetTest() : resets_(&store_, &accounts_, [this] { return now_; }) {
    accounts_.SignUp("alice", "password1").value();
  }
  PasswordResets resets_;
};

TEST_F(PasswordResetTest, ALinkSetsThePasswordOnceAndEndsEverySession) {
  std::string old_token = accounts_.LogIn("alice", "password1").value().token;
  std::string app = accounts_.app_passwords().Create("alice", "phone").value().secret;
  ResetLink link = resets_.Create("Alice", kDefaultResetLinkTtl).value();
  EXPECT_EQ(link.token.size(), 43u);
  EXPECT_EQ(link.expires_unix_s, absl::ToUnixSeconds(now_ + absl::Hours(24)));
  EXPECT_EQ(resets_.UserOf(link.token).value(), "alice");

  EXPECT_EQ(resets_.Redeem(link.token, "new-password-2").value(), "alice");
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.WhoAmI(old_token).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("alice", "password1").status()));
  EXPECT_TRUE(accounts_.LogIn("alice", "new-password-2").ok());
  EXPECT_TRUE(accounts_.CheckPassword("alice", app).ok()) << "app passwords stay";
  // Used once: a second use, and a look, are refused.
  EXPECT_TRUE(absl::IsNotFound(resets_.Redeem(link.token, "third-password").status()));
  EXPECT_TRUE(absl::IsNotFound(resets_.UserOf(link.token).status()));
}

TEST_F(PasswordResetTest, ExpiredWrongAndRetiredLinksAreRefused) {
  ResetLink first = resets_.Create("alice", absl::Hours(1)).value();
  now_ += absl::Hours(1);
  EXPECT_TRUE(absl::IsNotFound(resets_.Redeem(first.token, "new-password-2").status()));
  EXPECT_TRUE(absl::IsNotFound(resets_.Redeem(NewToken(), "new-password-2").status()));
  EXPECT_TRUE(absl::IsNotFound(resets_.Redeem("short", "new-password-2").status()));
  ResetLink second = resets_.Create("alice", absl::Hours(1)).value();
  ResetLink third = resets_.Create("alice", absl::Hours(1)).value();
  EXPECT_TRUE(absl::IsNotFound(resets_.Redeem(second.token, "new-password-2").status()))
      << "a newer link retires the older";
  EXPECT_TRUE(resets_.Redeem(third.token, "new-password-2").ok());
  // The old password still worked until the reset: nothing changed on refusals.
  EXPECT_TRUE(accounts_.LogIn("alice", "new-password-2").ok());
}

TEST_F(PasswordResetTest, APasswordAgainstTheRulesKeepsTheLink) {
  ResetLink link = resets_.Create("alice", kDefaultResetLinkTtl).value();
  EXPECT_TRUE(absl::IsInvalidArgument(resets_.Redeem(link.token, "short").status()));
  EXPECT_TRUE(accounts_.LogIn("alice", "password1").ok());
  EXPECT_TRUE(resets_.Redeem(link.token, "long-enough-1").ok());
}

TEST_F(PasswordResetTest, OnlyKnownUsersAndBoundedLifetimes) {
  EXPECT_TRUE(absl::IsNotFound(resets_.Create("nobody", absl::Hours(1)).status()));
  EXPECT_TRUE(absl::IsNotFound(resets_.Create("!!", absl::Hours(1)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(resets_.Create("alice", absl::ZeroDuration()).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      resets_.Create("alice", kMaxResetLinkTtl + absl::Seconds(1)).status()));
}

TEST_F(PasswordResetTest, AResetClearsTheFailedLoginWait) {
  ResetLink link = resets_.Create("alice", kDefaultResetLinkTtl).value();
  for (int i = 0; i < kFreeFailures + 2; ++i) (void)accounts_.LogIn("alice", "wrong-guess");
  EXPECT_TRUE(absl::IsResourceExhausted(accounts_.LogIn("alice", "password1").status()));
  ASSERT_TRUE(resets_.Redeem(link.token, "new-password-2").ok());
  EXPECT_TRUE(accounts_.LogIn("alice", "new-password-2").ok());
}

}  // namespace
}  // namespace penncloud::accounts
