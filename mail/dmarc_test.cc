#include "mail/dmarc.h"

#include <gtest/gtest.h>

namespace penncloud::mail {
namespace {

std::unique_ptr<ScriptedResolver> Dns() {
  return *ScriptedResolver::Parse(
      "_dmarc.reject.example TXT \"v=DMARC1; p=reject\"\n"
      "_dmarc.quarantine.example TXT \"v=DMARC1; p=quarantine; rua=mailto:r@quarantine.example\"\n"
      "_dmarc.monitor.example TXT \"v=DMARC1; p=none\"\n"
      "_dmarc.strict.example TXT \"v=DMARC1; p=reject; adkim=s; aspf=s\"\n"
      "_dmarc.parent.example TXT \"v=DMARC1; p=none; sp=reject\"\n"
      "_dmarc.down.example TEMPFAIL\n"
      "_dmarc.junk.example TXT \"v=spf1 -all\"\n");
}

SpfResult Spf(const char* result, const char* domain) {
  SpfResult r;
  r.result = result;
  r.identity = "mailfrom";
  r.domain = domain;
  return r;
}
DkimResult Dkim(const char* result, const char* domain) {
  DkimResult r;
  r.result = result;
  r.domain = domain;
  return r;
}

TEST(Dmarc, FailingMailGetsTheDomainsPolicy) {
  auto dns = Dns();
  DmarcResult reject =
      CheckDmarc(*dns, "192.0.2.1", "reject.example", Spf("fail", "reject.example"), {});
  EXPECT_EQ(reject.result, "fail");
  EXPECT_EQ(reject.policy, DmarcPolicy::kReject);
  DmarcResult quarantine = CheckDmarc(*dns, "192.0.2.1", "quarantine.example",
                                      Spf("softfail", "quarantine.example"), {});
  EXPECT_EQ(quarantine.result, "fail");
  EXPECT_EQ(quarantine.policy, DmarcPolicy::kQuarantine);
  DmarcResult monitor =
      CheckDmarc(*dns, "192.0.2.1", "monitor.example", Spf("fail", "monitor.example"), {});
  EXPECT_EQ(monitor.result, "fail");
  EXPECT_EQ(monitor.policy, DmarcPolicy::kNone);
}

TEST(Dmarc, AnAlignedPassIsEnough) {
  auto dns = Dns();
  // SPF passes for the From: domain.
  EXPECT_EQ(
      CheckDmarc(*dns, "192.0.2.1", "reject.example", Spf("pass", "reject.example"), {}).result,
      "pass");
  // DKIM passes for it while SPF fails.
  EXPECT_EQ(CheckDmarc(*dns, "192.0.2.1", "reject.example", Spf("fail", "reject.example"),
                       {Dkim("pass", "reject.example")})
                .result,
            "pass");
  // Relaxed alignment: a subdomain's signature counts.
  EXPECT_EQ(CheckDmarc(*dns, "192.0.2.1", "reject.example", Spf("none", ""),
                       {Dkim("pass", "mail.reject.example")})
                .result,
            "pass");
}

TEST(Dmarc, PassesForOtherDomainsDoNotCount) {
  auto dns = Dns();
  // The attacker's own domain passes SPF and DKIM, but it is not the From: domain.
  DmarcResult r = CheckDmarc(*dns, "192.0.2.1", "reject.example", Spf("pass", "attacker.example"),
                             {Dkim("pass", "attacker.example")});
  EXPECT_EQ(r.result, "fail");
  EXPECT_EQ(r.policy, DmarcPolicy::kReject);
  // Strict alignment: a subdomain is not the domain.
  EXPECT_EQ(CheckDmarc(*dns, "192.0.2.1", "strict.example", Spf("pass", "mail.strict.example"),
                       {Dkim("pass", "mail.strict.example")})
                .result,
            "fail");
}

TEST(Dmarc, SubdomainsTakeTheOrganizationsSubdomainPolicy) {
  auto dns = Dns();
  DmarcResult r =
      CheckDmarc(*dns, "192.0.2.1", "news.parent.example", Spf("fail", "news.parent.example"), {});
  EXPECT_EQ(r.result, "fail");
  EXPECT_EQ(r.policy, DmarcPolicy::kReject) << "sp=reject of parent.example";
  EXPECT_EQ(OrganizationalDomain("a.b.Example.ORG"), "example.org");
  EXPECT_EQ(OrganizationalDomain("localhost"), "localhost");
}

TEST(Dmarc, NoRecordNoFromDomainAndDnsTrouble) {
  auto dns = Dns();
  EXPECT_EQ(
      CheckDmarc(*dns, "192.0.2.1", "nodmarc.example", Spf("fail", "nodmarc.example"), {}).result,
      "none");
  EXPECT_EQ(CheckDmarc(*dns, "192.0.2.1", "junk.example", Spf("fail", "junk.example"), {}).result,
            "none")
      << "a TXT record that is not DMARC is no policy";
  EXPECT_EQ(CheckDmarc(*dns, "192.0.2.1", "", Spf("fail", "x.example"), {}).result, "none");
  EXPECT_EQ(CheckDmarc(*dns, "192.0.2.1", "down.example", Spf("fail", "down.example"), {}).result,
            "temperror");
}

}  // namespace
}  // namespace penncloud::mail
