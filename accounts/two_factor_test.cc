#include "accounts/two_factor.h"

#include "accounts/accounts.h"
#include "accounts/accounts_fixture.h"
#include "accounts/base32.h"
#include "accounts/totp.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::accounts {
namespace {

class TwoFactorTest : public AccountsTest {
 protected:
  TwoFactorTest() { accounts_.SignUp("alice", "password1").value(); }

  // Turns two-factor on for alice; returns the recovery codes.
  std::vector<std::string> Enroll() {
    Enrollment e = accounts_.two_factor().Begin("alice", "PennCloud").value();
    key_ = Base32Decode(e.secret).value();
    EXPECT_NE(e.uri.find("secret=" + e.secret), std::string::npos);
    return accounts_.two_factor().Confirm("alice", Code()).value();
  }
  std::string Code(int steps_later = 0) {
    return HotpCode(key_, static_cast<uint64_t>(TotpStep(now_) + steps_later));
  }

  std::string key_;
};

TEST_F(TwoFactorTest, EnrollmentNeedsACodeFromThePendingSecret) {
  Enrollment e = accounts_.two_factor().Begin("alice", "PennCloud").value();
  EXPECT_FALSE(accounts_.two_factor().State("alice").value().enabled);
  EXPECT_TRUE(absl::IsInvalidArgument(accounts_.two_factor().Confirm("alice", "000000").status()));
  EXPECT_FALSE(accounts_.two_factor().State("alice").value().enabled);
  key_ = Base32Decode(e.secret).value();
  std::vector<std::string> codes = accounts_.two_factor().Confirm("alice", Code()).value();
  EXPECT_EQ(codes.size(), static_cast<size_t>(kRecoveryCodes));
  TwoFactorState state = accounts_.two_factor().State("alice").value();
  EXPECT_TRUE(state.enabled);
  EXPECT_EQ(state.recovery_codes_left, kRecoveryCodes);
  EXPECT_TRUE(absl::IsFailedPrecondition(accounts_.two_factor().Begin("alice", "x").status()));
}

TEST_F(TwoFactorTest, LoginNeedsTheCodeAfterThePassword) {
  Enroll();
  LoginResult first = accounts_.LogIn("alice", "password1").value();
  ASSERT_TRUE(first.needs_code());
  EXPECT_TRUE(first.token.empty());
  // The confirming code was used up at enrollment; the next step's code works.
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogInWithCode(first.code_ticket, Code()).status()));
  now_ += absl::Seconds(30);
  LoginResult done = accounts_.LogInWithCode(first.code_ticket, Code()).value();
  EXPECT_FALSE(done.token.empty());
  EXPECT_EQ(accounts_.WhoAmI(done.token).value().username, "alice");
  // The ticket began one session and is gone.
  EXPECT_FALSE(accounts_.LogInWithCode(first.code_ticket, Code(1)).ok());
  // Wrong password: no ticket at all.
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("alice", "password2").status()));
}

TEST_F(TwoFactorTest, NoCodeTwiceWithinItsWindow) {
  Enroll();
  now_ += absl::Seconds(60);
  std::string code = Code();
  EXPECT_TRUE(accounts_.two_factor().CheckCode("alice", code).value());
  EXPECT_FALSE(accounts_.two_factor().CheckCode("alice", code).value());
  now_ += absl::Seconds(30);  // still inside the window as the previous step
  EXPECT_FALSE(accounts_.two_factor().CheckCode("alice", code).value());
  // An older code in the window is refused too once a later one was used.
  EXPECT_FALSE(accounts_.two_factor().CheckCode("alice", Code(-1)).value());
  EXPECT_TRUE(accounts_.two_factor().CheckCode("alice", Code(1)).value());
}

TEST_F(TwoFactorTest, RecoveryCodesWorkOnceEach) {
  std::vector<std::string> codes = Enroll();
  LoginResult first = accounts_.LogIn("alice", "password1").value();
  ASSERT_TRUE(accounts_.LogInWithCode(first.code_ticket, codes[3]).ok());
  LoginResult second = accounts_.LogIn("alice", "password1").value();
  EXPECT_TRUE(
      absl::IsUnauthenticated(accounts_.LogInWithCode(second.code_ticket, codes[3]).status()));
  // Typed in upper case with spaces, another one still works.
  std::string typed = codes[4];
  for (char& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::toupper(c));
  EXPECT_TRUE(accounts_.LogInWithCode(second.code_ticket, typed).ok());
  EXPECT_EQ(accounts_.two_factor().State("alice").value().recovery_codes_left, kRecoveryCodes - 2);
  // Only digests are stored.
  auto stored = store_.List("recov/alice", {.after = "", .limit = 100, .with_values = true});
  for (const kvs::Cell& cell : stored->cells) EXPECT_EQ(cell.column.size(), 64u);
}

TEST_F(TwoFactorTest, CodeGuessesCostBackoffStepsAndThePasswordAloneClearsNothing) {
  Enroll();
  now_ += absl::Seconds(30);
  LoginResult first = accounts_.LogIn("alice", "password1").value();
  int refused_by_wait = 0;
  for (int i = 0; i < kFreeFailures + 2; ++i) {
    absl::Status s = accounts_.LogInWithCode(first.code_ticket, "000000").status();
    if (absl::IsResourceExhausted(s)) ++refused_by_wait;
  }
  EXPECT_GT(refused_by_wait, 0);
  // Going back to the password step does not buy fresh guesses.
  EXPECT_TRUE(absl::IsResourceExhausted(accounts_.LogIn("alice", "password1").status()));
  now_ += absl::Minutes(20);
  LoginResult again = accounts_.LogIn("alice", "password1").value();
  ASSERT_TRUE(accounts_.LogInWithCode(again.code_ticket, Code()).ok());
  EXPECT_FALSE(store_.Get("acct/alice", "fail").ok());  // a finished sign-in clears it
}

TEST_F(TwoFactorTest, ExpiredTicketIsRefused) {
  Enroll();
  LoginResult first = accounts_.LogIn("alice", "password1").value();
  now_ += absl::Minutes(6);
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogInWithCode(first.code_ticket, Code()).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogInWithCode("made-up", Code()).status()));
}

TEST_F(TwoFactorTest, ProtocolsTakeOnlyAppPasswordsOnceItIsOn) {
  NewAppPassword phone = accounts_.app_passwords().Create("alice", "Phone").value();
  ProtocolLogin web = accounts_.CheckProtocolLogin("alice", "password1").value();
  EXPECT_TRUE(accounts_.ProtocolLoginHolds(web).value());
  Enroll();
  EXPECT_FALSE(accounts_.ProtocolLoginHolds(web).value());  // a cached login stops too
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.CheckPassword("alice", "password1").status()));
  EXPECT_EQ(accounts_.CheckPassword("alice", phone.secret).value(), "alice");
}

TEST_F(TwoFactorTest, DisablingNeedsPasswordAndCode) {
  Enroll();
  now_ += absl::Seconds(30);
  LoginResult first = accounts_.LogIn("alice", "password1").value();
  LoginResult session = accounts_.LogInWithCode(first.code_ticket, Code()).value();
  now_ += absl::Seconds(30);
  EXPECT_TRUE(
      absl::IsUnauthenticated(accounts_.DisableTwoFactor(session.token, "wrong-password", Code())));
  EXPECT_TRUE(
      absl::IsUnauthenticated(accounts_.DisableTwoFactor(session.token, "password1", "000000")));
  EXPECT_TRUE(accounts_.two_factor().State("alice").value().enabled);
  ASSERT_TRUE(accounts_.DisableTwoFactor(session.token, "password1", Code()).ok());
  EXPECT_FALSE(accounts_.two_factor().State("alice").value().enabled);
  EXPECT_FALSE(accounts_.LogIn("alice", "password1").value().needs_code());
  EXPECT_EQ(accounts_.CheckPassword("alice", "password1").value(), "alice");
  EXPECT_FALSE(store_.List("recov/alice", {}).value().cells.size() > 0);
}

}  // namespace
}  // namespace penncloud::accounts
