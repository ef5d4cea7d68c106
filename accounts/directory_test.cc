// The user list, and what disabling an account does to its logins and sessions.
#include "accounts/directory.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "accounts/accounts_fixture.h"
#include "accounts/rows.h"

namespace penncloud::accounts {
namespace {

std::vector<std::string> Names(const UserPage& page) {
  std::vector<std::string> names;
  for (const UserSummary& u : page.users) names.push_back(u.name);
  return names;
}

TEST_F(AccountsTest, UsersArePagedInNameOrderAndFoundByPrefix) {
  for (const char* name : {"bob", "alice", "alfred", "carol", "al.x"}) {
    ASSERT_TRUE(accounts_.SignUp(name, "password1", std::string(name) == "carol").ok());
  }
  absl::StatusOr<UserPage> first = ListUsers(&store_, "", "", 2);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Names(*first), (std::vector<std::string>{"al.x", "alfred"}));
  absl::StatusOr<UserPage> rest = ListUsers(&store_, "", first->next, 10);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(Names(*rest), (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(rest->next, "");
  EXPECT_TRUE(rest->users[2].admin);
  EXPECT_EQ(rest->users[2].created_unix_s, absl::ToUnixSeconds(now_));

  absl::StatusOr<UserPage> al = ListUsers(&store_, "AL", "", 2);
  ASSERT_TRUE(al.ok());
  EXPECT_EQ(Names(*al), (std::vector<std::string>{"al.x", "alfred"}));
  al = ListUsers(&store_, "al", al->next, 2);
  ASSERT_TRUE(al.ok());
  EXPECT_EQ(Names(*al), (std::vector<std::string>{"alice"}));
  EXPECT_EQ(al->next, "");
  EXPECT_TRUE(ListUsers(&store_, "zed", "", 5)->users.empty());
  EXPECT_FALSE(ListUsers(&store_, "", "", 0).ok());
  EXPECT_FALSE(ListUsers(&store_, "", "", kMaxUsersPerPage + 1).ok());
}

TEST_F(AccountsTest, AnAccountMadeBeforeTheListIsAddedFromItsRow) {
  ASSERT_TRUE(accounts_.SignUp("dave", "password1").ok());
  ASSERT_TRUE(store_.Delete(rows::kUsers, "dave").ok());  // as before the list existed
  EXPECT_TRUE(ListUsers(&store_, "", "", 10)->users.empty());
  EXPECT_TRUE(*ListAccountRow(&store_, "acct/dave"));
  EXPECT_TRUE(*ListAccountRow(&store_, "acct/dave"));  // again: no harm
  EXPECT_EQ(Names(*ListUsers(&store_, "", "", 10)), (std::vector<std::string>{"dave"}));
  // Rows that are not accounts, or not of a name sign-up makes, are left alone.
  ASSERT_TRUE(store_.Put("acct/Eve", "password", "x").ok());
  ASSERT_TRUE(store_.Put("acct/x", "password", "x").ok());
  for (const char* row : {"acct/Eve", "acct/x", "acct/nobody", "usess/dave", "acct/", "users"}) {
    EXPECT_FALSE(*ListAccountRow(&store_, row)) << row;
  }
  EXPECT_EQ(Names(*ListUsers(&store_, "", "", 10)), (std::vector<std::string>{"dave"}));
}

TEST_F(AccountsTest, AnEntryWithoutAnAccountIsSkippedAndPagingGoesOn) {
  for (const char* name : {"anna", "dora"}) ASSERT_TRUE(accounts_.SignUp(name, "password1").ok());
  // Sign-ups that wrote the list's entry and never got further.
  for (const char* ghost : {"bert", "carl", "cleo", "dan"}) {
    ASSERT_TRUE(store_.Put(rows::kUsers, ghost, "").ok());
  }
  absl::StatusOr<UserPage> first = ListUsers(&store_, "", "", 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Names(*first), (std::vector<std::string>{"anna"}));
  std::vector<std::string> seen = Names(*first);
  std::string next = first->next;
  for (int page = 0; page < 10 && !next.empty(); ++page) {
    absl::StatusOr<UserPage> more = ListUsers(&store_, "", next, 1);
    ASSERT_TRUE(more.ok());
    for (const std::string& name : Names(*more)) seen.push_back(name);
    next = more->next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"anna", "dora"}));
  EXPECT_EQ(next, "");
  // The name of an unfinished sign-up is still free, and taking it lists it once.
  ASSERT_TRUE(accounts_.SignUp("carl", "password1").ok());
  EXPECT_EQ(Names(*ListUsers(&store_, "c", "", 10)), (std::vector<std::string>{"carl"}));
}

TEST_F(AccountsTest, EveryConcurrentSignUpIsListedOnce) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i) {
        // Two threads race for each name; exactly one wins it.
        (void)accounts_.SignUp(absl::StrCat("user", (t / 2) * kEach + i), "password1");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> seen;
  std::string after;
  for (int page = 0; page < 100; ++page) {
    absl::StatusOr<UserPage> got = ListUsers(&store_, "user", after, 7);
    ASSERT_TRUE(got.ok());
    for (const std::string& name : Names(*got)) seen.push_back(name);
    after = got->next;
    if (after.empty()) break;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads / 2 * kEach));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
}

TEST_F(AccountsTest, TheBackfillIsRecordedOnce) {
  EXPECT_FALSE(*BackfillDone(&store_));
  ASSERT_TRUE(MarkBackfillDone(&store_, 1234).ok());
  EXPECT_TRUE(*BackfillDone(&store_));
  EXPECT_TRUE(ListUsers(&store_, "", "", 10)->users.empty());  // no trace in the list
}

TEST_F(AccountsTest, ADisabledAccountCannotLogInAndItsSessionsEnd) {
  ASSERT_TRUE(accounts_.SignUp("erin", "password1").ok());
  absl::StatusOr<LoginResult> login = accounts_.LogIn("erin", "password1");
  ASSERT_TRUE(login.ok());
  absl::StatusOr<NewAppPassword> app = accounts_.app_passwords().Create("erin", "phone");
  ASSERT_TRUE(app.ok());
  absl::StatusOr<ProtocolLogin> cached = accounts_.CheckProtocolLogin("erin", app->secret);
  ASSERT_TRUE(cached.ok());

  ASSERT_TRUE(accounts_.SetDisabled("erin", true).ok());
  EXPECT_TRUE(*accounts_.IsDisabled("erin"));
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.WhoAmI(login->token).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(accounts_.LogIn("erin", "password1").status()));
  EXPECT_TRUE(absl::IsPermissionDenied(accounts_.CheckPassword("erin", "password1").status()));
  EXPECT_TRUE(absl::IsPermissionDenied(accounts_.CheckPassword("erin", app->secret).status()));
  EXPECT_FALSE(*accounts_.ProtocolLoginHolds(*cached));
  // A wrong password is still just wrong: being disabled is told only to the owner.
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("erin", "password2").status()));
  EXPECT_TRUE(ListUsers(&store_, "erin", "", 1)->users[0].disabled);

  ASSERT_TRUE(accounts_.SetDisabled("erin", false).ok());
  EXPECT_TRUE(accounts_.LogIn("erin", "password1").ok());
  EXPECT_TRUE(accounts_.CheckPassword("erin", app->secret).ok());
  EXPECT_TRUE(absl::IsNotFound(accounts_.SetDisabled("nobody", true)));
}

}  // namespace
}  // namespace penncloud::accounts
