#include "accounts/password_hash.h"

#include "accounts/tokens.h"
#include "gtest/gtest.h"

namespace penncloud::accounts {
namespace {

TEST(PasswordHash, VerifiesOnlyTheRightPassword) {
  std::string encoded = HashPassword("correct horse", kTestHashParams).value();
  EXPECT_TRUE(encoded.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
  EXPECT_TRUE(VerifyPassword("correct horse", encoded));
  EXPECT_FALSE(VerifyPassword("correct horsf", encoded));
  EXPECT_FALSE(VerifyPassword("", encoded));
}

TEST(PasswordHash, SaltsEveryHash) {
  EXPECT_NE(HashPassword("same", kTestHashParams).value(),
            HashPassword("same", kTestHashParams).value());
}

TEST(PasswordHash, DefaultsAreOwaspArgon2id) {
  std::string encoded = HashPassword("pw", HashParams{}).value();
  EXPECT_TRUE(encoded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << encoded;
}

TEST(Tokens, AreLongRandomAndUrlSafe) {
  std::string a = NewToken(), b = NewToken();
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_TRUE(ConstantTimeEquals(a, a));
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, a.substr(1)));
}

}  // namespace
}  // namespace penncloud::accounts
