#include "accounts/totp.h"

#include "accounts/base32.h"
#include "gtest/gtest.h"

namespace penncloud::accounts {
namespace {

// RFC 6238 appendix B: the SHA-1 key is the ASCII of "12345678901234567890", 8 digits.
constexpr char kRfcKey[] = "12345678901234567890";

TEST(Totp, Rfc6238TestVectors) {
  struct Vector {
    int64_t unix_seconds;
    const char* code;
  };
  for (const Vector& v : {Vector{59, "94287082"}, Vector{1111111109, "07081804"},
                          Vector{1111111111, "14050471"}, Vector{1234567890, "89005924"},
                          Vector{2000000000, "69279037"}, Vector{20000000000, "65353130"}}) {
    int64_t step = TotpStep(absl::FromUnixSeconds(v.unix_seconds));
    EXPECT_EQ(HotpCode(kRfcKey, static_cast<uint64_t>(step), 8), v.code) << v.unix_seconds;
  }
}

TEST(Totp, Rfc4226HotpVectors) {
  // RFC 4226 appendix D, same key, six digits, counters 0..9.
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t c = 0; c < 10; ++c) EXPECT_EQ(HotpCode(kRfcKey, c), expected[c]) << c;
}

TEST(Totp, MatchesOneStepEitherSideAndNoFurther) {
  absl::Time now = absl::FromUnixSeconds(1'800'000'015);
  int64_t step = TotpStep(now);
  for (int64_t d : {-1, 0, 1}) {
    std::string code = HotpCode(kRfcKey, static_cast<uint64_t>(step + d));
    std::optional<int64_t> matched = MatchTotp(kRfcKey, code, now);
    ASSERT_TRUE(matched.has_value()) << d;
    EXPECT_EQ(*matched, step + d);
  }
  for (int64_t d : {-3, -2, 2, 3}) {
    EXPECT_FALSE(MatchTotp(kRfcKey, HotpCode(kRfcKey, static_cast<uint64_t>(step + d)), now)) << d;
  }
  EXPECT_FALSE(MatchTotp(kRfcKey, "12345", now));
  EXPECT_FALSE(MatchTotp(kRfcKey, "12345a", now));
  EXPECT_FALSE(MatchTotp(kRfcKey, "", now));
}

TEST(Totp, OtpauthUriCarriesTheBase32Secret) {
  std::string uri = OtpauthUri("PennCloud", "alice", kRfcKey);
  EXPECT_EQ(uri,
            "otpauth://totp/PennCloud:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=PennCloud&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(OtpauthUri("Penn Cloud", "a.b", "k").substr(0, 30), "otpauth://totp/Penn%20Cloud:a.");
}

TEST(Base32, RoundTripsAndRejectsJunk) {
  // RFC 4648 section 10.
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(Base32Decode("MZXW6YTBOI").value(), "foobar");
  EXPECT_EQ(Base32Decode("mzxw6ytboi======").value(), "foobar");
  EXPECT_FALSE(Base32Decode("MZXW6YTBO1").has_value());  // '1' is not in the alphabet
  EXPECT_EQ(Base32Decode("MY").value(), "f");
  EXPECT_EQ(Base32Decode("mzxw 6ytb oi").value(), "foobar");  // as people type it
  EXPECT_FALSE(Base32Decode("M").has_value());                // five bits make no byte
}

}  // namespace
}  // namespace penncloud::accounts
