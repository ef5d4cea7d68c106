#include "accounts/accounts.h"

#include <atomic>
#include <thread>
#include <vector>

#include "accounts/accounts_fixture.h"
#include "gtest/gtest.h"

namespace penncloud::accounts {
namespace {

TEST(Username, RulesAreEnforced) {
  EXPECT_EQ(NormalizeUsername("Alice").value(), "alice");
  EXPECT_EQ(NormalizeUsername("a.b_c-9").value(), "a.b_c-9");
  EXPECT_FALSE(NormalizeUsername("ab").ok());
  EXPECT_FALSE(NormalizeUsername(std::string(33, 'a')).ok());
  EXPECT_TRUE(NormalizeUsername(std::string(32, 'a')).ok());
  EXPECT_FALSE(NormalizeUsername("9lives").ok());
  EXPECT_FALSE(NormalizeUsername("al ice").ok());
  EXPECT_FALSE(NormalizeUsername("al/ice").ok());
  EXPECT_FALSE(NormalizeUsername("alice@x").ok());
}

TEST_F(AccountsTest, SignUpLogInWhoAmI) {
  EXPECT_EQ(accounts_.SignUp("Alice", "password1").value(), "alice");
  LoginResult login = accounts_.LogIn("alice", "password1").value();
  Session me = accounts_.WhoAmI(login.token).value();
  EXPECT_EQ(me.username, "alice");
  EXPECT_EQ(me.csrf, login.session.csrf);
  EXPECT_TRUE(Accounts::CsrfMatches(me, login.session.csrf));
  EXPECT_FALSE(Accounts::CsrfMatches(me, ""));
  std::string forged = login.session.csrf;
  forged[0] = forged[0] == 'x' ? 'y' : 'x';  // differs in exactly one character
  EXPECT_FALSE(Accounts::CsrfMatches(me, forged));
  // Nothing in the store holds the live token.
  EXPECT_FALSE(store_.Get("sess/" + login.token, "data").ok());
}

TEST_F(AccountsTest, DuplicateAndBadInput) {
  ASSERT_TRUE(accounts_.SignUp("bob", "password1").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(accounts_.SignUp("BOB", "password2").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(accounts_.SignUp("carol", "short").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(accounts_.SignUp("x", "password1").status()));
}

TEST_F(AccountsTest, ConcurrentSignUpsOfOneNameHaveOneWinner) {
  std::atomic<int> wins{0}, taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::string> r = accounts_.SignUp("dave", "password" + std::to_string(i));
      if (r.ok()) ++wins;
      if (absl::IsAlreadyExists(r.status())) ++taken;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(taken.load(), 7);
}

TEST_F(AccountsTest, WrongPasswordAndUnknownUser) {
  ASSERT_TRUE(accounts_.SignUp("erin", "password1").ok());
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("erin", "password2").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("nobody", "password1").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("!!", "password1").status()));
  EXPECT_EQ(accounts_.CheckPassword("ERIN", "password1").value(), "erin");
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.CheckPassword("erin", "nope").status()));
}

TEST_F(AccountsTest, FailedLoginsBackOffAndSuccessResets) {
  ASSERT_TRUE(accounts_.SignUp("frank", "password1").ok());
  for (int i = 0; i < kFreeFailures; ++i) {
    EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("frank", "bad-pass").status()));
  }
  // Now even the right password must wait 1 s after the last failure.
  EXPECT_TRUE(absl::IsResourceExhausted(accounts_.LogIn("frank", "password1").status()));
  now_ += absl::Seconds(1);
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("frank", "bad-pass").status()));
  // Six failures: the wait doubles to 2 s.
  now_ += absl::Seconds(1);
  EXPECT_TRUE(absl::IsResourceExhausted(accounts_.LogIn("frank", "password1").status()));
  now_ += absl::Seconds(1);
  ASSERT_TRUE(accounts_.LogIn("frank", "password1").ok());
  // The count was cleared.
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("frank", "bad-pass").status()));
  EXPECT_TRUE(accounts_.LogIn("frank", "password1").ok());
}

// The race of issue 16: guesses sent in parallel used to read the counter, hash, and only
// then write it, so all of them were checked inside one back-off window. Each check now
// takes its own step first, so only kFreeFailures of them reach the hash.
TEST_F(AccountsTest, ParallelWrongPasswordsEachCostAStep) {
  ASSERT_TRUE(accounts_.SignUp("paula", "password1").ok());
  constexpr int kGuesses = 16;
  std::atomic<int> checked{0}, throttled{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kGuesses; ++i) {
    threads.emplace_back([&, i] {
      absl::Status s = accounts_.CheckPassword("paula", "guess-" + std::to_string(i)).status();
      if (absl::IsUnauthenticated(s)) ++checked;
      if (absl::IsResourceExhausted(s)) ++throttled;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(checked.load(), kFreeFailures);
  EXPECT_EQ(throttled.load(), kGuesses - kFreeFailures);
  // The stored count says how many were checked: one step each.
  std::string fail = store_.Get("acct/paula", "fail").value();
  EXPECT_EQ(fail.substr(0, fail.find(' ')), std::to_string(kFreeFailures));
  // Even the right password now waits for the back-off.
  EXPECT_TRUE(absl::IsResourceExhausted(accounts_.CheckPassword("paula", "password1").status()));
  now_ += absl::Seconds(1);
  EXPECT_TRUE(accounts_.CheckPassword("paula", "password1").ok());
  EXPECT_TRUE(absl::IsNotFound(store_.Get("acct/paula", "fail").status()));
}

TEST_F(AccountsTest, BackoffIsCapped) {
  ASSERT_TRUE(accounts_.SignUp("gina", "password1").ok());
  for (int i = 0; i < 40; ++i) {
    (void)accounts_.LogIn("gina", "bad-pass");
    now_ += absl::Minutes(16);
  }
  EXPECT_TRUE(accounts_.LogIn("gina", "password1").ok());
}

TEST_F(AccountsTest, SessionsExpire) {
  ASSERT_TRUE(accounts_.SignUp("hank", "password1").ok());
  LoginResult login = accounts_.LogIn("hank", "password1").value();
  now_ += absl::Minutes(59);
  EXPECT_TRUE(accounts_.WhoAmI(login.token).ok());
  now_ += absl::Minutes(2);
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.WhoAmI(login.token).status()));
}

TEST_F(AccountsTest, LogOutEndsOnlyThatSession) {
  ASSERT_TRUE(accounts_.SignUp("ivan", "password1").ok());
  LoginResult a = accounts_.LogIn("ivan", "password1").value();
  LoginResult b = accounts_.LogIn("ivan", "password1").value();
  ASSERT_TRUE(accounts_.LogOut(a.token).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.WhoAmI(a.token).status()));
  EXPECT_TRUE(accounts_.WhoAmI(b.token).ok());
  EXPECT_TRUE(accounts_.LogOut(a.token).ok());  // twice is fine
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.WhoAmI("").status()));
}

TEST_F(AccountsTest, ChangePasswordEndsOtherSessions) {
  ASSERT_TRUE(accounts_.SignUp("judy", "password1").ok());
  LoginResult a = accounts_.LogIn("judy", "password1").value();
  LoginResult b = accounts_.LogIn("judy", "password1").value();
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.ChangePassword(a.token, "wrong-old", "password2")));
  EXPECT_TRUE(absl::IsInvalidArgument(accounts_.ChangePassword(a.token, "password1", "short")));
  ASSERT_TRUE(accounts_.ChangePassword(a.token, "password1", "password2").ok());
  EXPECT_TRUE(accounts_.WhoAmI(a.token).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.WhoAmI(b.token).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("judy", "password1").status()));
  EXPECT_TRUE(accounts_.LogIn("judy", "password2").ok());
}

TEST_F(AccountsTest, AdminFlag) {
  ASSERT_TRUE(accounts_.SignUp("root", "password1", /*admin=*/true).ok());
  ASSERT_TRUE(accounts_.SignUp("user", "password1").ok());
  EXPECT_TRUE(accounts_.IsAdmin("root").value());
  EXPECT_FALSE(accounts_.IsAdmin("user").value());
  EXPECT_FALSE(accounts_.IsAdmin("ghost").value());
  LoginResult root = accounts_.LogIn("root", "password1").value();
  EXPECT_TRUE(root.session.admin);
  EXPECT_TRUE(accounts_.WhoAmI(root.token).value().admin);
  LoginResult before = accounts_.LogIn("user", "password1").value();
  EXPECT_FALSE(accounts_.WhoAmI(before.token).value().admin);
  ASSERT_TRUE(accounts_.SetAdmin("user", true).ok());
  EXPECT_TRUE(accounts_.IsAdmin("user").value());
  // A session says what the user was when it began; a new login sees the change.
  EXPECT_FALSE(accounts_.WhoAmI(before.token).value().admin);
  EXPECT_TRUE(accounts_.WhoAmI(accounts_.LogIn("user", "password1").value().token).value().admin);
  EXPECT_TRUE(accounts_.Exists("user").value());
  EXPECT_FALSE(accounts_.Exists("ghost").value());
}

TEST_F(AccountsTest, StoreOutageIsReportedNotMistakenForBadCredentials) {
  ASSERT_TRUE(accounts_.SignUp("kate", "password1").ok());
  LoginResult a = accounts_.LogIn("kate", "password1").value();
  store_.SetUnavailable(true);
  EXPECT_TRUE(absl::IsUnavailable(accounts_.LogIn("kate", "password1").status()));
  EXPECT_TRUE(absl::IsUnavailable(accounts_.WhoAmI(a.token).status()));
  store_.SetUnavailable(false);
  EXPECT_TRUE(accounts_.WhoAmI(a.token).ok());
}

}  // namespace
}  // namespace penncloud::accounts

namespace penncloud::accounts {
namespace {

class SessionListTest : public AccountsTest {};

TEST_F(SessionListTest, ListsWhereAndWhenAndEndsOne) {
  accounts_.SignUp("alice", "password1").value();
  LoginResult phone =
      accounts_.LogIn("alice", "password1", {"192.0.2.7", "Mozilla/5.0 (iPhone)\r\nX: y"}).value();
  now_ += absl::Minutes(5);
  LoginResult laptop = accounts_.LogIn("alice", "password1", {"198.51.100.2", "curl/8"}).value();
  now_ += absl::Minutes(5);
  ASSERT_TRUE(accounts_.WhoAmI(phone.token).ok());  // seen now

  std::vector<SessionInfo> list = accounts_.ListSessions(laptop.token).value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].address, "198.51.100.2");  // the current one first
  EXPECT_TRUE(list[0].current);
  EXPECT_EQ(list[0].created, now_ - absl::Minutes(5));
  EXPECT_EQ(list[1].address, "192.0.2.7");
  EXPECT_EQ(list[1].user_agent, "Mozilla/5.0 (iPhone)  X: y");  // one line, as stored
  EXPECT_EQ(list[1].last_seen, now_);
  EXPECT_EQ(list[1].created, now_ - absl::Minutes(10));
  EXPECT_FALSE(list[1].current);

  // Bob cannot end Alice's session by its id.
  accounts_.SignUp("bob", "password2").value();
  LoginResult bob = accounts_.LogIn("bob", "password2").value();
  EXPECT_TRUE(absl::IsNotFound(accounts_.EndSession(bob.token, list[1].id)));
  EXPECT_TRUE(accounts_.WhoAmI(phone.token).ok());

  ASSERT_TRUE(accounts_.EndSession(laptop.token, list[1].id).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.WhoAmI(phone.token).status()));
  EXPECT_EQ(accounts_.ListSessions(laptop.token).value().size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(accounts_.EndSession(laptop.token, "not-an-id")));
}

TEST_F(SessionListTest, EndOthersKeepsTheCurrentOne) {
  accounts_.SignUp("alice", "password1").value();
  LoginResult a = accounts_.LogIn("alice", "password1").value();
  LoginResult b = accounts_.LogIn("alice", "password1").value();
  LoginResult c = accounts_.LogIn("alice", "password1").value();
  ASSERT_TRUE(accounts_.EndOtherSessions(b.token).ok());
  EXPECT_FALSE(accounts_.WhoAmI(a.token).ok());
  EXPECT_TRUE(accounts_.WhoAmI(b.token).ok());
  EXPECT_FALSE(accounts_.WhoAmI(c.token).ok());
  EXPECT_EQ(accounts_.ListSessions(b.token).value().size(), 1u);
  EXPECT_TRUE(store_.List("useen/alice", {}).value().cells.size() <= 1);
}

TEST_F(SessionListTest, LastSeenIsWrittenAtMostOncePerMinute) {
  accounts_.SignUp("alice", "password1").value();
  LoginResult a = accounts_.LogIn("alice", "password1").value();
  ASSERT_TRUE(accounts_.WhoAmI(a.token).ok());
  absl::Time first = now_;
  now_ += absl::Seconds(40);
  ASSERT_TRUE(accounts_.WhoAmI(a.token).ok());
  EXPECT_EQ(accounts_.ListSessions(a.token).value()[0].last_seen, first);
  now_ += absl::Seconds(30);
  ASSERT_TRUE(accounts_.WhoAmI(a.token).ok());
  EXPECT_EQ(accounts_.ListSessions(a.token).value()[0].last_seen, now_);
}

// What StartWhoAmI hands its callback (the memory store answers before it returns).
std::optional<absl::StatusOr<Session>> Started(Accounts& accounts, std::string_view token) {
  std::optional<absl::StatusOr<Session>> out;
  bool called = false;
  accounts.StartWhoAmI(token, [&](std::optional<absl::StatusOr<Session>> session) {
    called = true;
    out = std::move(session);
  });
  EXPECT_TRUE(called);
  return out;
}

TEST_F(SessionListTest, StartWhoAmIAnswersAsWhoAmIAndLeavesDueWritesToIt) {
  accounts_.SignUp("alice", "password1").value();
  LoginResult a = accounts_.LogIn("alice", "password1").value();
  // Never seen: the last-seen write is due, so the quick path declines and WhoAmI writes.
  EXPECT_FALSE(Started(accounts_, a.token).has_value());
  ASSERT_TRUE(accounts_.WhoAmI(a.token).ok());
  EXPECT_EQ(accounts_.ListSessions(a.token).value()[0].last_seen, now_);

  now_ += absl::Seconds(30);
  std::optional<absl::StatusOr<Session>> session = Started(accounts_, a.token);
  ASSERT_TRUE(session.has_value());
  ASSERT_TRUE(session->ok()) << session->status();
  EXPECT_EQ((*session)->username, "alice");
  EXPECT_EQ((*session)->csrf, a.session.csrf);
  now_ += absl::Seconds(31);
  EXPECT_FALSE(Started(accounts_, a.token).has_value());

  // A session ended is refused at once, and so is a token never issued.
  ASSERT_TRUE(accounts_.LogOut(a.token).ok());
  session = Started(accounts_, a.token);
  ASSERT_TRUE(session.has_value());
  EXPECT_TRUE(absl::IsUnauthenticated(session->status()));
  session = Started(accounts_, "");
  ASSERT_TRUE(session.has_value());
  EXPECT_TRUE(absl::IsUnauthenticated(session->status()));

  // The store cut off: WhoAmI's error.
  LoginResult b = accounts_.LogIn("alice", "password1").value();
  store_.SetUnavailable(true);
  session = Started(accounts_, b.token);
  ASSERT_TRUE(session.has_value());
  EXPECT_TRUE(absl::IsUnavailable(session->status()));
  store_.SetUnavailable(false);
}

}  // namespace
}  // namespace penncloud::accounts
