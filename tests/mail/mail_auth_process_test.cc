// Mail between domains through the real smtp binary (docs/mail-auth.md): DNS answered from
// a scripted file (--dns_script), inbound mail from swaks checked with SPF, DKIM and DMARC
// (stored with Authentication-Results, filed in Junk, or refused with 550 5.7.1), and
// outbound mail DKIM-signed with the keys scripts/lib/dkim.sh made, checked at the sink by
// python3-dkim.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mail/dkim.h"
#include "mail/mail_store.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// An IPv4 address of this machine that is not loopback: libspf2 passes every loopback
// client, so SPF can only fail for mail arriving from another address. "" if none.
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) != nullptr) found = text;
  }
  freeifaddrs(list);
  return found;
}

class MailAuthProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ip_ = NonLoopbackAddress();
    if (ip_.empty()) GTEST_SKIP() << "no non-loopback IPv4 address to send from";
    dir_ = ::testing::TempDir() + "/mail_auth_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // The keys as start.sh makes them.
    ShResult keys =
        Sh("bash " + SourcePath("scripts/lib/dkim.sh") + " '' " + dir_ + "/dkim penncloud.local");
    ASSERT_EQ(keys.exit_code, 0) << keys.output;
    ASSERT_THAT(keys.output, HasSubstr("penncloud-ed25519._domainkey.penncloud.local. IN TXT"));
    ASSERT_THAT(keys.output, Not(HasSubstr("PRIVATE")));
    std::ofstream(dir_ + "/dns") << "# the senders' domains, all answered from this file\n"
                                 << "good.example TXT \"v=spf1 ip4:" << ip_ << " -all\"\n"
                                 << "_dmarc.good.example TXT \"v=DMARC1; p=reject\"\n"
                                 << "reject.example TXT \"v=spf1 ip4:192.0.2.250 -all\"\n"
                                 << "_dmarc.reject.example TXT \"v=DMARC1; p=reject\"\n"
                                 << "quarantine.example TXT \"v=spf1 ip4:192.0.2.250 -all\"\n"
                                 << "_dmarc.quarantine.example TXT \"v=DMARC1; p=quarantine\"\n";
    auto system = MailSystem::Start(
        {"--address=0.0.0.0", "--dns_script=" + dir_ + "/dns", "--dkim_dir=" + dir_ + "/dkim"});
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
  }

  // swaks from outside (no AUTH) to bob, connecting to the non-loopback address.
  ShResult SendFrom(const std::string& from, const std::string& extra = "") {
    return Sh("swaks --server " + ip_ + " --port " + std::to_string(sys_->smtp_port()) +
              " --timeout 20 --from " + from + " --to bob@penncloud.local --header 'From: <" +
              from + ">' --header 'Subject: from " + from + "' " + extra);
  }
  // The sources in bob's `folder`.
  std::vector<std::string> Bobs(std::string_view folder) {
    mail::MailStore store(sys_->kvs());
    std::vector<std::string> out;
    auto all = store.ListAll("bob", folder);
    EXPECT_TRUE(all.ok()) << all.status();
    for (const auto& meta : *all) out.push_back(*store.Source("bob", meta));
    return out;
  }

  std::string ip_, dir_;
  std::unique_ptr<MailSystem> sys_;
};

TEST_F(MailAuthProcessTest, SpfPassIsDeliveredWithResults) {
  ShResult r = SendFrom("alice@good.example");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> inbox = Bobs(mail::kInbox);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_TRUE(inbox[0].starts_with("Authentication-Results: penncloud.local;")) << inbox[0];
  EXPECT_THAT(inbox[0], HasSubstr("spf=pass smtp.mailfrom=good.example"));
  EXPECT_THAT(inbox[0], HasSubstr("dmarc=pass header.from=good.example"));
}

TEST_F(MailAuthProcessTest, DmarcRejectIsRefusedAtEndOfData) {
  ShResult r = SendFrom("ceo@reject.example");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output,
              HasSubstr("550 5.7.1 Message rejected by the DMARC policy of reject.example"));
  EXPECT_TRUE(Bobs(mail::kInbox).empty());
  EXPECT_TRUE(Bobs(mail::kJunk).empty());
}

TEST_F(MailAuthProcessTest, DmarcQuarantineGoesToJunk) {
  ShResult r = SendFrom("news@quarantine.example");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Bobs(mail::kInbox).empty());
  std::vector<std::string> junk = Bobs(mail::kJunk);
  ASSERT_EQ(junk.size(), 1u);
  EXPECT_THAT(junk[0], HasSubstr("spf=fail smtp.mailfrom=quarantine.example"));
  EXPECT_THAT(junk[0], HasSubstr("dmarc=fail (p=quarantine) header.from=quarantine.example"));
}

TEST_F(MailAuthProcessTest, ForgedResultsWithOurIdAreDropped) {
  ShResult r = SendFrom("alice@quarantine.example",
                        "--add-header 'Authentication-Results: penncloud.local; dmarc=pass "
                        "header.from=quarantine.example'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> junk = Bobs(mail::kJunk);
  ASSERT_EQ(junk.size(), 1u);
  EXPECT_THAT(junk[0], Not(HasSubstr("dmarc=pass")));
  EXPECT_EQ(junk[0].find("Authentication-Results:"), junk[0].rfind("Authentication-Results:"))
      << "one Authentication-Results, ours:\n"
      << junk[0];
}

TEST_F(MailAuthProcessTest, OutboundMailIsSignedAndVerifiesElsewhere) {
  auto sink = Process::Start(
      "/usr/bin/python3",
      {MailSystem::Script("sink.py"), std::to_string(sys_->sink_port()), dir_ + "/sink", "accept"},
      dir_ + "/sink.log");
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE(WaitForPort(sys_->sink_port()));
  ShResult r = Sh("swaks --server 127.0.0.1 --port " + std::to_string(sys_->smtp_port()) +
                  " --timeout 20 --tls --auth PLAIN --auth-user alice --auth-password " +
                  MailSystem::kAlicePassword +
                  " --from alice@penncloud.local --to carol@example.com"
                  " --header 'Subject: signed on the way out'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string eml = dir_ + "/sink/0.eml";
  for (int i = 0; i < 100 && !std::filesystem::exists(eml); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(std::filesystem::exists(eml));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the sink finishes writing

  // The published records, from the very keys the server signed with.
  auto keys = mail::LoadDkimKeys(dir_ + "/dkim", "penncloud.local");
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  std::ofstream records(dir_ + "/records");
  for (const auto& key : *keys) {
    records << key.selector << "._domainkey.penncloud.local TXT \"" << mail::DkimPublicRecord(key)
            << "\"\n";
  }
  records.close();
  ShResult verified = Sh("/usr/bin/python3 " + SourcePath("mail/dkim_reference.py") + " verify " +
                         dir_ + "/records < " + eml);
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_EQ(verified.output, "pass\npass\n") << "one Ed25519 and one RSA signature";
  ShResult headers = Sh("grep -c '^DKIM-Signature:' " + eml);
  EXPECT_EQ(headers.output, "2\n");
}

}  // namespace
}  // namespace penncloud::testing
