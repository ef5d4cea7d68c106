#include "mail/spf.h"

#include <gtest/gtest.h>

namespace penncloud::mail {
namespace {

std::unique_ptr<ScriptedResolver> Dns() {
  return *ScriptedResolver::Parse(
      "strict.example TXT \"v=spf1 ip4:192.0.2.10 -all\"\n"
      "soft.example TXT \"v=spf1 ip4:192.0.2.10 ~all\"\n"
      "neutral.example TXT \"v=spf1 ?all\"\n"
      "include.example TXT \"v=spf1 include:_spf.provider.example -all\"\n"
      "_spf.provider.example TXT \"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 -all\"\n"
      "mx.example TXT \"v=spf1 mx -all\"\n"
      "mx.example MX 10 mail.mx.example\n"
      "mail.mx.example A 203.0.113.5\n"
      "a.example TXT \"v=spf1 a -all\"\n"
      "a.example AAAA 2001:db8:1::25\n"
      "nospf.example TXT \"google-site-verification=abc\"\n"
      "two.example TXT \"v=spf1 -all\"\n"
      "two.example TXT \"v=spf1 +all\"\n"
      "broken.example TXT \"v=spf1 ip4:not-an-address -all\"\n"
      "down.example TEMPFAIL\n"
      "helo.example TXT \"v=spf1 ip4:192.0.2.77 -all\"\n");
}

TEST(Spf, RecordDecidesByClientAddress) {
  auto dns = Dns();
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.10", "h", "a@strict.example").result, "pass");
  SpfResult fail = CheckSpf(*dns, "192.0.2.11", "h", "a@strict.example");
  EXPECT_EQ(fail.result, "fail");
  EXPECT_EQ(fail.identity, "mailfrom");
  EXPECT_EQ(fail.domain, "strict.example");
  EXPECT_EQ(CheckSpf(*dns, "::ffff:192.0.2.10", "h", "a@strict.example").result, "pass");
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.11", "h", "a@soft.example").result, "softfail");
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.11", "h", "a@neutral.example").result, "neutral");
}

TEST(Spf, MechanismsThatLookUpMore) {
  auto dns = Dns();
  EXPECT_EQ(CheckSpf(*dns, "198.51.100.7", "h", "a@include.example").result, "pass");
  EXPECT_EQ(CheckSpf(*dns, "2001:db8::9", "h", "a@include.example").result, "pass");
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.10", "h", "a@include.example").result, "fail");
  EXPECT_EQ(CheckSpf(*dns, "203.0.113.5", "h", "a@mx.example").result, "pass");
  EXPECT_EQ(CheckSpf(*dns, "203.0.113.6", "h", "a@mx.example").result, "fail");
  EXPECT_EQ(CheckSpf(*dns, "2001:db8:1::25", "h", "a@a.example").result, "pass");
}

TEST(Spf, NoRecordErrorsAndTemporaryFailure) {
  auto dns = Dns();
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.1", "h", "a@nospf.example").result, "none");
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.1", "h", "a@nowhere.example").result, "none");
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.1", "h", "a@two.example").result, "permerror");
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.1", "h", "a@broken.example").result, "permerror");
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.1", "h", "a@down.example").result, "temperror");
}

TEST(Spf, NullSenderIsCheckedByHeloName) {
  auto dns = Dns();
  SpfResult pass = CheckSpf(*dns, "192.0.2.77", "helo.example", "");
  EXPECT_EQ(pass.result, "pass");
  EXPECT_EQ(pass.identity, "helo");
  EXPECT_EQ(pass.domain, "helo.example");
  EXPECT_EQ(CheckSpf(*dns, "192.0.2.78", "helo.example", "").result, "fail");
}

}  // namespace
}  // namespace penncloud::mail
