#include "mail/dkim.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "mail/dkim_test_keys.h"
#include "mail/header_fields.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

const std::string kMessage =
    "From: Alice <alice@penncloud.local>\r\n"
    "To: bob@example.org\r\n"
    "Subject: DKIM test\r\n"
    "Date: Sun, 06 Dec 2026 04:00:00 +0000\r\n"
    "Message-ID: <1@penncloud.local>\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "this line is signed.\r\n";

class DkimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ed_ = NewTestKey("penncloud.local", "ed", true);
    rsa_ = NewTestKey("penncloud.local", "rsa", false);
    Publish("");
  }
  // The DNS records of both keys, plus `extra` lines.
  void Publish(const std::string& extra) {
    resolver_ = *ScriptedResolver::Parse(
        Cat("ed._domainkey.penncloud.local TXT \"", DkimPublicRecord(ed_), "\"\n",
            "rsa._domainkey.penncloud.local TXT \"", DkimPublicRecord(rsa_), "\"\n", extra));
  }
  std::string SignedMessage() { return *DkimSigner({ed_, rsa_}).Sign(kMessage); }

  DkimKey ed_, rsa_;
  std::unique_ptr<ScriptedResolver> resolver_;
};

TEST_F(DkimTest, SignsWithEveryKeyAndBothVerify) {
  std::string message = SignedMessage();
  HeaderSection header = SplitHeader(message);
  ASSERT_GE(header.fields.size(), 2u);
  EXPECT_EQ(FieldName(header.fields[0]), "DKIM-Signature");
  EXPECT_EQ(FieldName(header.fields[1]), "DKIM-Signature");
  EXPECT_NE(header.fields[0].find("a=ed25519-sha256"), std::string::npos) << header.fields[0];
  EXPECT_NE(header.fields[1].find("a=rsa-sha256"), std::string::npos) << header.fields[1];
  EXPECT_NE(header.fields[0].find("d=penncloud.local"), std::string::npos);
  EXPECT_EQ(message.find('\n'), message.find("\r\n") + 1) << "CRLF line ends";
  for (size_t i = 0; i + 1 < message.size(); ++i) {
    if (message[i + 1] == '\n') {
      ASSERT_EQ(message[i], '\r') << "bare LF at " << i;
    }
  }

  std::vector<DkimResult> results = VerifyDkim(message, *resolver_);
  ASSERT_EQ(results.size(), 2u);
  std::set<std::string> algorithms;
  for (const DkimResult& r : results) {
    EXPECT_EQ(r.result, "pass") << r.selector << ": " << r.reason;
    EXPECT_EQ(r.domain, "penncloud.local");
    algorithms.insert(r.algorithm);
  }
  EXPECT_EQ(algorithms, (std::set<std::string>{"ed25519-sha256", "rsa-sha256"}));
}

TEST_F(DkimTest, ChangedBodyOrHeaderFails) {
  std::string message = SignedMessage();
  std::string body_changed = message;
  body_changed.replace(body_changed.find("signed"), 6, "forged");
  for (const DkimResult& r : VerifyDkim(body_changed, *resolver_)) EXPECT_EQ(r.result, "fail");
  std::string subject_changed = message;
  subject_changed.replace(subject_changed.find("DKIM test"), 9, "Pay now!!");
  for (const DkimResult& r : VerifyDkim(subject_changed, *resolver_)) EXPECT_EQ(r.result, "fail");
}

TEST_F(DkimTest, RelaxedCanonicalizationToleratesRewrapping) {
  std::string message = SignedMessage();
  // A relay that re-spaces a header and adds trailing white space still passes (c=relaxed).
  message.replace(message.find("Subject: DKIM test"), 18, "Subject:   DKIM   test ");
  for (const DkimResult& r : VerifyDkim(message, *resolver_)) EXPECT_EQ(r.result, "pass");
}

TEST_F(DkimTest, WrongKeyMissingKeyAndDnsTrouble) {
  std::string message = SignedMessage();
  // Another Ed25519 key published under the selector: the signature does not match it.
  DkimKey other = NewTestKey("penncloud.local", "ed", true);
  resolver_ =
      *ScriptedResolver::Parse(Cat("ed._domainkey.penncloud.local TXT \"", DkimPublicRecord(other),
                                   "\"\n", "rsa._domainkey.penncloud.local TEMPFAIL\n"));
  std::map<std::string, std::string> by_selector;
  for (const DkimResult& r : VerifyDkim(message, *resolver_)) by_selector[r.selector] = r.result;
  EXPECT_EQ(by_selector["ed"], "fail");
  EXPECT_EQ(by_selector["rsa"], "temperror");

  resolver_ = *ScriptedResolver::Parse("penncloud.local A 192.0.2.1\n");
  for (const DkimResult& r : VerifyDkim(message, *resolver_)) {
    EXPECT_EQ(r.result, "permerror") << r.selector << " has no key record";
  }
}

TEST_F(DkimTest, UnsignedMessageHasNoResults) {
  EXPECT_TRUE(VerifyDkim(kMessage, *resolver_).empty());
}

TEST_F(DkimTest, GarbageSignatureIsAnErrorNotAPass) {
  std::string message =
      Cat("DKIM-Signature: v=1; a=ed25519-sha256; d=penncloud.local; s=ed; "
          "h=from; bh=AAAA; b=!!!\r\n",
          kMessage);
  for (const DkimResult& r : VerifyDkim(message, *resolver_)) EXPECT_NE(r.result, "pass");
}

TEST(DkimKeys, PublicRecordsHaveTheRightShape) {
  DkimKey ed = NewTestKey("example.org", "s1", true);
  DkimKey rsa = NewTestKey("example.org", "s2", false);
  std::string ed_record = DkimPublicRecord(ed);
  ASSERT_TRUE(ed_record.starts_with("v=DKIM1; k=ed25519; p=")) << ed_record;
  std::string raw;
  ASSERT_TRUE(Base64Decode(ed_record.substr(ed_record.find("p=") + 2), &raw));
  EXPECT_EQ(raw.size(), 32u) << "RFC 8463: the bare 32-byte public key";
  EXPECT_TRUE(DkimPublicRecord(rsa).starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"));
  EXPECT_FALSE(MakeDkimKey("example.org", "x", "not a key").ok());
}

TEST(DkimKeys, LoadsTheDomainsKeysFromTheFolder) {
  std::string dir = ::testing::TempDir() + "/dkim_keys";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
  };
  write("penncloud.local.b-ed.key", NewTestKeyPem(true));
  write("penncloud.local.a-rsa.key", NewTestKeyPem(false));
  write("example.org.other.key", NewTestKeyPem(true));
  write("penncloud.local.b-ed.txt", "v=DKIM1; ...");
  auto keys = LoadDkimKeys(dir, "PennCloud.local");
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].selector, "a-rsa");
  EXPECT_FALSE((*keys)[0].ed25519);
  EXPECT_EQ((*keys)[1].selector, "b-ed");
  EXPECT_TRUE((*keys)[1].ed25519);
  EXPECT_TRUE(LoadDkimKeys(dir + "/missing", "penncloud.local")->empty());
  write("penncloud.local.bad.key", "garbage");
  EXPECT_FALSE(LoadDkimKeys(dir, "penncloud.local").ok()) << "a broken key is not skipped silently";
}

TEST(ScriptedResolver, AnswersLikeDns) {
  auto resolver = ScriptedResolver::Parse(
      "# comment\n"
      "Example.ORG. TXT \"v=spf1 \" \"-all\"\n"
      "example.org TXT plain text\n"
      "example.org MX 20 mx2.example.org\n"
      "example.org MX 10 MX1.example.org.\n"
      "example.org A 192.0.2.1\n"
      "down.example TEMPFAIL\n");
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  DnsAnswer txt = (*resolver)->Lookup("EXAMPLE.org", DnsType::kTxt);
  EXPECT_EQ(txt.status, DnsStatus::kOk);
  EXPECT_EQ(txt.records, (std::vector<std::string>{"v=spf1 -all", "plain text"}));
  EXPECT_EQ((*resolver)->Lookup("example.org", DnsType::kMx).records,
            (std::vector<std::string>{"mx1.example.org", "mx2.example.org"}));
  EXPECT_EQ((*resolver)->Lookup("example.org", DnsType::kAaaa).status, DnsStatus::kNoData);
  EXPECT_EQ((*resolver)->Lookup("nowhere.example", DnsType::kA).status, DnsStatus::kNxDomain);
  EXPECT_EQ((*resolver)->Lookup("down.example", DnsType::kTxt).status, DnsStatus::kTempError);
  EXPECT_FALSE(ScriptedResolver::Parse("x.example CNAME y.example\n").ok());
  EXPECT_FALSE(ScriptedResolver::Parse("x.example TXT \"unclosed\n").ok());
  EXPECT_FALSE(ScriptedResolver::Parse("x.example MX mx.example\n").ok());
}

}  // namespace
}  // namespace penncloud::mail
