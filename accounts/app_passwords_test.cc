#include "accounts/app_passwords.h"

#include "absl/strings/str_replace.h"
#include "accounts/accounts.h"
#include "accounts/accounts_fixture.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::accounts {
namespace {

class AppPasswordsTest : public AccountsTest {
 protected:
  AppPasswordsTest() { accounts_.SignUp("alice", "password1").value(); }
  AppPasswords& apps() { return accounts_.app_passwords(); }
};

TEST_F(AppPasswordsTest, CreatedSecretIsShownOnceAndStoredOnlyAsDigest) {
  NewAppPassword made = apps().Create("alice", "Phone mail").value();
  EXPECT_EQ(made.secret.size(), 39u);  // 32 characters in 8 groups
  EXPECT_EQ(made.info.name, "Phone mail");
  EXPECT_EQ(made.info.created, now_);
  auto cells = store_.List("appw/alice", {.after = "", .limit = 10, .with_values = true}).value();
  ASSERT_EQ(cells.cells.size(), 1u);
  EXPECT_EQ(cells.cells[0].column, made.info.id);
  EXPECT_EQ(cells.cells[0].value.find(absl::StrReplaceAll(made.secret, {{"-", ""}})),
            std::string::npos);
  EXPECT_NE(made.secret, apps().Create("alice", "Laptop").value().secret);
}

TEST_F(AppPasswordsTest, ProtocolsAcceptItAsTypedAndNoteItsUse) {
  NewAppPassword made = apps().Create("alice", "Phone").value();
  EXPECT_EQ(accounts_.CheckPassword("Alice", made.secret).value(), "alice");
  // Mail clients' settings pages mangle spacing and case; both still work.
  std::string typed = absl::StrReplaceAll(made.secret, {{"-", " "}});
  for (char& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(accounts_.CheckPassword("alice", typed).value(), "alice");
  EXPECT_EQ(accounts_.CheckPassword("alice", "password1").value(), "alice");
  // It is for the protocols only: no web session from it.
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.LogIn("alice", made.secret).status()));
  std::vector<AppPassword> list = apps().List("alice").value();
  ASSERT_EQ(list.size(), 1u);
  ASSERT_TRUE(list[0].last_used.has_value());
  EXPECT_EQ(*list[0].last_used, now_);
  // Someone else's app password is not yours.
  accounts_.SignUp("bob", "password2").value();
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.CheckPassword("bob", made.secret).status()));
}

TEST_F(AppPasswordsTest, RevokedIsRefusedAtOnceAndCacheSaysSo) {
  NewAppPassword phone = apps().Create("alice", "Phone").value();
  NewAppPassword laptop = apps().Create("alice", "Laptop").value();
  ProtocolLogin login = accounts_.CheckProtocolLogin("alice", phone.secret).value();
  EXPECT_EQ(login.app_password_id, phone.info.id);
  EXPECT_TRUE(accounts_.ProtocolLoginHolds(login).value());
  ASSERT_TRUE(apps().Revoke("alice", phone.info.id).ok());
  EXPECT_FALSE(accounts_.ProtocolLoginHolds(login).value());
  EXPECT_TRUE(absl::IsUnauthenticated(accounts_.CheckPassword("alice", phone.secret).status()));
  EXPECT_EQ(accounts_.CheckPassword("alice", laptop.secret).value(), "alice");
  EXPECT_TRUE(absl::IsNotFound(apps().Revoke("alice", phone.info.id)));
  EXPECT_TRUE(absl::IsNotFound(apps().Revoke("alice", "../../acct/alice")));
  // Revoking by the id of another user's app password does nothing to it.
  accounts_.SignUp("bob", "password2").value();
  NewAppPassword bobs = apps().Create("bob", "Bob's phone").value();
  EXPECT_TRUE(absl::IsNotFound(apps().Revoke("alice", bobs.info.id)));
  EXPECT_EQ(accounts_.CheckPassword("bob", bobs.secret).value(), "bob");
}

TEST_F(AppPasswordsTest, BadNamesAndTooManyAreRefused) {
  EXPECT_TRUE(absl::IsInvalidArgument(apps().Create("alice", "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(apps().Create("alice", std::string(65, 'x')).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(apps().Create("alice", "a\nb").status()));
  for (size_t i = 0; i < kMaxAppPasswords; ++i) ASSERT_TRUE(apps().Create("alice", "x").ok());
  EXPECT_TRUE(absl::IsResourceExhausted(apps().Create("alice", "one more").status()));
  EXPECT_EQ(apps().List("alice").value().size(), kMaxAppPasswords);
}

TEST_F(AppPasswordsTest, LastUseIsWrittenAtMostOncePerMinute) {
  NewAppPassword made = apps().Create("alice", "Phone").value();
  ASSERT_TRUE(accounts_.CheckPassword("alice", made.secret).ok());
  absl::Time first = now_;
  now_ += absl::Seconds(30);
  ASSERT_TRUE(accounts_.CheckPassword("alice", made.secret).ok());
  EXPECT_EQ(*apps().List("alice").value()[0].last_used, first);
  now_ += absl::Seconds(31);
  ASSERT_TRUE(accounts_.CheckPassword("alice", made.secret).ok());
  EXPECT_EQ(*apps().List("alice").value()[0].last_used, now_);
}

TEST_F(AppPasswordsTest, WrongAppPasswordsTakeFailureSteps) {
  apps().Create("alice", "Phone").value();
  for (int i = 0; i < kFreeFailures; ++i) {
    EXPECT_TRUE(absl::IsUnauthenticated(
        accounts_.CheckPassword("alice", "aaaa-bbbb-cccc-dddd-eeee-ffff-gggg-hhhh").status()));
  }
  EXPECT_TRUE(absl::IsResourceExhausted(accounts_.CheckPassword("alice", "password1").status()));
}

}  // namespace
}  // namespace penncloud::accounts
