#include "mail/inbound_auth.h"

#include <gtest/gtest.h>

#include "mail/dkim.h"
#include "mail/dkim_test_keys.h"
#include "mail/header_fields.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

constexpr std::string_view kId = "mx.penncloud.local";

std::string Message(std::string_view from, std::string_view extra_header = "") {
  return Cat(extra_header, "From: <", from, ">\r\nTo: <bob@penncloud.local>\r\n",
             "Subject: hi\r\n\r\nbody\r\n");
}

class InboundAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = NewTestKey("signed.example", "sel", true);
    dns_ = *ScriptedResolver::Parse(
        Cat("reject.example TXT \"v=spf1 ip4:192.0.2.10 -all\"\n",
            "_dmarc.reject.example TXT \"v=DMARC1; p=reject\"\n",
            "quarantine.example TXT \"v=spf1 ip4:192.0.2.10 -all\"\n",
            "_dmarc.quarantine.example TXT \"v=DMARC1; p=quarantine\"\n",
            "signed.example TXT \"v=spf1 -all\"\n",
            "_dmarc.signed.example TXT \"v=DMARC1; p=reject\"\n",
            "sel._domainkey.signed.example TXT \"", DkimPublicRecord(key_), "\"\n"));
    auth_ = std::make_unique<InboundAuth>(*dns_, std::string(kId));
  }
  std::string ResultsField(const InboundDecision& d) {
    HeaderSection h = SplitHeader(d.message);
    EXPECT_FALSE(h.fields.empty());
    EXPECT_EQ(FieldName(h.fields[0]), "Authentication-Results");
    return std::string(h.fields[0]);
  }

  DkimKey key_;
  std::unique_ptr<ScriptedResolver> dns_;
  std::unique_ptr<InboundAuth> auth_;
};

TEST_F(InboundAuthTest, PassingMailIsDeliveredWithResults) {
  InboundDecision d = auth_->Check("192.0.2.10", "mx.reject.example", "a@reject.example",
                                   Message("a@reject.example"));
  EXPECT_EQ(d.action, InboundDecision::Action::kDeliver);
  std::string field = ResultsField(d);
  EXPECT_TRUE(field.starts_with("Authentication-Results: mx.penncloud.local;")) << field;
  EXPECT_NE(field.find("spf=pass smtp.mailfrom=reject.example"), std::string::npos) << field;
  EXPECT_NE(field.find("dkim=none"), std::string::npos) << field;
  EXPECT_NE(field.find("dmarc=pass header.from=reject.example"), std::string::npos) << field;
  EXPECT_TRUE(d.message.ends_with(Message("a@reject.example")));
}

TEST_F(InboundAuthTest, PolicyDecidesJunkOrReject) {
  InboundDecision reject = auth_->Check("198.51.100.1", "evil.example", "a@reject.example",
                                        Message("ceo@reject.example"));
  EXPECT_EQ(reject.action, InboundDecision::Action::kReject);
  EXPECT_EQ(reject.reason, "Message rejected by the DMARC policy of reject.example");
  InboundDecision junk = auth_->Check("198.51.100.1", "evil.example", "a@quarantine.example",
                                      Message("a@quarantine.example"));
  EXPECT_EQ(junk.action, InboundDecision::Action::kJunk);
  std::string field = ResultsField(junk);
  EXPECT_NE(field.find("spf=fail"), std::string::npos) << field;
  EXPECT_NE(field.find("dmarc=fail (p=quarantine) header.from=quarantine.example"),
            std::string::npos)
      << field;
}

TEST_F(InboundAuthTest, AlignedDkimPassesDespiteSpf) {
  std::string message = *DkimSigner({key_}).Sign(Message("news@signed.example"));
  // Sent through a forwarder whose address signed.example's SPF does not list.
  InboundDecision d = auth_->Check("198.51.100.1", "fwd.example", "bounce@fwd.example", message);
  EXPECT_EQ(d.action, InboundDecision::Action::kDeliver);
  std::string field = ResultsField(d);
  EXPECT_NE(field.find("dkim=pass header.d=signed.example header.s=sel header.a=ed25519-sha256"),
            std::string::npos)
      << field;
  EXPECT_NE(field.find("dmarc=pass"), std::string::npos) << field;
  // The same message with a changed body is refused: DKIM fails, SPF is not aligned.
  message.replace(message.find("body"), 4, "BODY");
  EXPECT_EQ(auth_->Check("198.51.100.1", "fwd.example", "bounce@fwd.example", message).action,
            InboundDecision::Action::kReject);
}

TEST_F(InboundAuthTest, ForgedResultsWithOurIdAreRemoved) {
  std::string forged =
      Cat("Authentication-Results: MX.PennCloud.Local; dmarc=pass header.from=reject.example\r\n",
          "Authentication-Results: (comment) mx.penncloud.local;\r\n\tspf=pass\r\n",
          "Authentication-Results: other.example; spf=pass\r\n");
  InboundDecision d = auth_->Check("198.51.100.1", "evil.example", "a@quarantine.example",
                                   Message("a@quarantine.example", forged));
  HeaderSection h = SplitHeader(d.message);
  int ours = 0, theirs = 0;
  for (std::string_view f : h.fields) {
    if (FieldName(f) != "Authentication-Results") continue;
    (AuthservIdOf(FieldValue(f)) == kId ? ours : theirs)++;
  }
  EXPECT_EQ(ours, 1) << d.message;
  EXPECT_EQ(theirs, 1) << "another server's results stay";
  EXPECT_EQ(d.action, InboundDecision::Action::kJunk);
}

TEST(AuthenticationResults, StripKeepsEverythingElseByteForByte) {
  std::string message =
      "Received: x\r\nAuthentication-Results: a.example;\r\n none\r\nSubject: s\r\n\r\n"
      "Authentication-Results: a.example; in the body\r\n";
  EXPECT_EQ(StripAuthenticationResults(message, "a.example"),
            "Received: x\r\nSubject: s\r\n\r\nAuthentication-Results: a.example; in the body\r\n");
  EXPECT_EQ(StripAuthenticationResults(message, "b.example"), message);
  EXPECT_EQ(AuthservIdOf(" (a (nested) comment)\r\n\tid.example ; x"), "id.example");
  EXPECT_EQ(AuthservIdOf("id.example"), "id.example");
  EXPECT_EQ(AuthservIdOf(" ( unclosed"), "");
  // A comment ending in a backslash (found by mail_auth_fuzz: read past the end and threw).
  EXPECT_EQ(AuthservIdOf(" (ends in \\"), "");
  EXPECT_EQ(AuthservIdOf(" (a \\) quoted) id.example;"), "id.example");
  EXPECT_EQ(StripAuthenticationResults("Authentication-Results: (x\\\r\n\r\nbody", "x"),
            "Authentication-Results: (x\\\r\n\r\nbody");
}

TEST(HeaderFields, SplitsFoldedFieldsAndFindsTheBody) {
  std::string message = "A: 1\r\nB: 2\r\n\tcontinued\r\nC:3\r\n\r\nbody\r\n";
  HeaderSection h = SplitHeader(message);
  ASSERT_EQ(h.fields.size(), 3u);
  EXPECT_EQ(h.fields[1], "B: 2\r\n\tcontinued");
  EXPECT_EQ(FieldName(h.fields[2]), "C");
  EXPECT_EQ(FieldValue(h.fields[2]), "3");
  EXPECT_EQ(message.substr(h.body_offset), "body\r\n");
  HeaderSection no_body = SplitHeader("A: 1\r\nB: 2\r\n");
  EXPECT_EQ(no_body.fields.size(), 2u);
  EXPECT_EQ(no_body.fields[1], "B: 2");
  EXPECT_TRUE(SplitHeader("").fields.empty());
}

}  // namespace
}  // namespace penncloud::mail
