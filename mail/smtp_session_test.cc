#include "mail/smtp_session.h"

#include <map>

#include "gtest/gtest.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

class FakeBackend : public SmtpBackend {
 public:
  absl::StatusOr<std::string> Authenticate(std::string_view user,
                                           std::string_view password) override {
    if (user == "alice" && password == "alice-password") return std::string("alice");
    return absl::UnauthenticatedError("no");
  }
  absl::StatusOr<bool> LocalUserExists(std::string_view user) override {
    if (down) return absl::UnavailableError("down");
    return user == "alice" || user == "bob";
  }
  absl::StatusOr<std::string> Deliver(const Envelope& envelope, std::string_view message) override {
    if (down) return absl::UnavailableError("down");
    delivered.push_back({envelope, std::string(message)});
    return std::string("Q1");
  }
  bool down = false;
  std::vector<std::pair<Envelope, std::string>> delivered;
};

class SmtpSessionTest : public ::testing::Test {
 protected:
  SmtpSessionTest() { config_.tls_available = true; }
  // Sends one line and returns the reply text.
  std::string Send(std::string_view line) { return session_.OnLine(line).text; }
  std::string Code(std::string_view line) { return Send(line).substr(0, 9); }

  SmtpConfig config_;
  FakeBackend backend_;
  SmtpSession session_{config_, backend_, "127.0.0.1",
                       [] { return std::string("Tue, 24 Nov 2026 17:00:00 +0000"); }};
};

TEST_F(SmtpSessionTest, EhloAdvertisesExtensions) {
  EXPECT_EQ(session_.Greeting().substr(0, 4), "220 ");
  std::string ehlo = Send("EHLO client.example");
  EXPECT_NE(ehlo.find("250-penncloud.local greets client.example\r\n"), std::string::npos);
  for (const char* ext : {"SIZE 33554432", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES",
                          "STARTTLS", "AUTH PLAIN LOGIN"}) {
    EXPECT_NE(ehlo.find(ext), std::string::npos) << ext;
  }
  // The last line has a space after the code, all others a dash.
  EXPECT_NE(ehlo.find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos);
  EXPECT_EQ(Send("HELO x"), "250 penncloud.local\r\n");
}

TEST_F(SmtpSessionTest, LocalDeliveryWithDotUnstuffingAndReceived) {
  Send("EHLO c");
  EXPECT_EQ(Code("MAIL FROM:<bob@example.com> SIZE=100 BODY=8BITMIME"), "250 2.1.0");
  EXPECT_EQ(Code("RCPT TO:<alice@PennCloud.Local>"), "250 2.1.5");
  EXPECT_EQ(Code("DATA").substr(0, 3), "354");
  EXPECT_EQ(Send("Subject: hi"), "");
  Send("");
  Send("..leading dot");
  Send("body");
  std::string reply = Send(".");
  EXPECT_EQ(reply, "250 2.0.0 OK: queued as Q1\r\n");
  ASSERT_EQ(backend_.delivered.size(), 1u);
  const auto& [envelope, message] = backend_.delivered[0];
  EXPECT_EQ(envelope.sender, "bob@example.com");
  EXPECT_EQ(envelope.recipients, std::vector<std::string>{"alice@PennCloud.Local"});
  EXPECT_TRUE(message.starts_with("Received: from c (127.0.0.1)\r\n\tby penncloud.local"));
  EXPECT_NE(message.find("\r\n\r\n.leading dot\r\nbody\r\n"), std::string::npos);
  EXPECT_TRUE(message.ends_with("body\r\n"));
  // The transaction is over: a new one may start.
  EXPECT_EQ(Code("MAIL FROM:<>"), "250 2.1.0");
}

TEST_F(SmtpSessionTest, SequenceErrors) {
  EXPECT_EQ(Code("MAIL FROM:<a@b.c>"), "503 5.5.1");
  Send("EHLO c");
  EXPECT_EQ(Code("RCPT TO:<alice@penncloud.local>"), "503 5.5.1");
  EXPECT_EQ(Code("DATA"), "503 5.5.1");
  Send("MAIL FROM:<a@b.c>");
  EXPECT_EQ(Code("MAIL FROM:<a@b.c>"), "503 5.5.1");
  EXPECT_EQ(Code("DATA"), "554 5.5.1");
  EXPECT_EQ(Code("RSET"), "250 2.0.0");
  EXPECT_EQ(Code("RCPT TO:<alice@penncloud.local>"), "503 5.5.1");
  EXPECT_EQ(Code("FROB"), "500 5.5.2");
  EXPECT_EQ(Code("MAIL TO:<x@y.z>"), "501 5.5.4");
  EXPECT_EQ(Code("NOOP"), "250 2.0.0");
  EXPECT_EQ(Code("VRFY alice"), "252 2.5.0");
  SessionOutput quit = session_.OnLine("QUIT");
  EXPECT_EQ(quit.text.substr(0, 9), "221 2.0.0");
  EXPECT_TRUE(quit.close);
}

TEST_F(SmtpSessionTest, UnknownLocalUserRefused) {
  Send("EHLO c");
  Send("MAIL FROM:<a@b.c>");
  EXPECT_EQ(Code("RCPT TO:<nobody@penncloud.local>"), "550 5.1.1");
  backend_.down = true;
  EXPECT_EQ(Code("RCPT TO:<alice@penncloud.local>"), "451 4.3.0");
}

TEST_F(SmtpSessionTest, NeverAnOpenRelay) {
  Send("EHLO c");
  Send("MAIL FROM:<alice@penncloud.local>");
  EXPECT_EQ(Code("RCPT TO:<victim@example.com>"), "554 5.7.1");
  EXPECT_EQ(Code("RCPT TO:<victim@example.com"), "501 5.1.3");
  EXPECT_EQ(Code("DATA"), "554 5.5.1");
}

TEST_F(SmtpSessionTest, AuthPlainThenRelay) {
  Send("EHLO c");
  // authzid "", authcid "alice", password "wrong"
  EXPECT_EQ(Code(Cat("AUTH PLAIN ", Base64Encode(std::string("\0alice\0wrong", 12)))), "535 5.7.8");
  EXPECT_EQ(Send("AUTH PLAIN"), "334 \r\n");
  EXPECT_EQ(Code(Base64Encode(std::string("\0alice@penncloud.local\0alice-password", 37))),
            "235 2.7.0");
  EXPECT_EQ(session_.authenticated_user(), "alice");
  EXPECT_EQ(Code("AUTH PLAIN"), "503 5.5.1");
  EXPECT_EQ(Send("EHLO c").find("AUTH"), std::string::npos);
  Send("MAIL FROM:<alice@penncloud.local>");
  EXPECT_EQ(Code("RCPT TO:<carol@example.com>"), "250 2.1.5");
  Send("DATA");
  Send("hi");
  EXPECT_EQ(Code("."), "250 2.0.0");
  EXPECT_EQ(backend_.delivered[0].first.authenticated_user, "alice");
  EXPECT_NE(backend_.delivered[0].second.find("with ESMTPA"), std::string::npos);
}

TEST_F(SmtpSessionTest, AuthLoginExactChallenges) {
  Send("EHLO c");
  EXPECT_EQ(Send("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(Send(Base64Encode("alice")), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(Code(Base64Encode("alice-password")), "235 2.7.0");
}

TEST_F(SmtpSessionTest, AuthLoginWithInitialUserAndCancel) {
  Send("EHLO c");
  EXPECT_EQ(Send(Cat("AUTH LOGIN ", Base64Encode("alice"))), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(Code("*"), "501 5.7.0");
  EXPECT_EQ(Code("AUTH CRAM-MD5"), "504 5.5.4");
  EXPECT_EQ(Code("AUTH PLAIN !!!notbase64"), "501 5.5.2");
}

TEST_F(SmtpSessionTest, SizeLimits) {
  config_.max_message_bytes = 100;
  Send("EHLO c");
  EXPECT_EQ(Code("MAIL FROM:<a@b.c> SIZE=101"), "552 5.3.4");
  Send("MAIL FROM:<a@b.c>");
  Send("RCPT TO:<bob@penncloud.local>");
  Send("DATA");
  for (int i = 0; i < 10; ++i) Send("0123456789012345");
  EXPECT_EQ(Code("."), "552 5.3.4");
  EXPECT_TRUE(backend_.delivered.empty());
  EXPECT_EQ(Code(std::string(5000, 'x')), "500 5.5.2");
}

TEST_F(SmtpSessionTest, StoreFailureIsTemporary) {
  Send("EHLO c");
  Send("MAIL FROM:<a@b.c>");
  Send("RCPT TO:<bob@penncloud.local>");
  Send("DATA");
  backend_.down = true;
  EXPECT_EQ(Code("."), "451 4.3.0");
}

TEST_F(SmtpSessionTest, StartTlsResetsState) {
  Send("EHLO c");
  EXPECT_EQ(Code("STARTTLS x"), "501 5.5.4");
  SessionOutput out = session_.OnLine("STARTTLS");
  EXPECT_EQ(out.text.substr(0, 9), "220 2.0.0");
  EXPECT_TRUE(out.start_tls);
  session_.OnTlsStarted();
  EXPECT_EQ(Code("MAIL FROM:<a@b.c>"), "503 5.5.1");
  std::string ehlo = Send("EHLO c");
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(Code("STARTTLS"), "503 5.5.1");
}

TEST(SmtpPath, Parse) {
  std::string a;
  std::string_view rest;
  EXPECT_TRUE(ParsePath("<@r1,@r2:x@y.z> SIZE=5", &a, &rest));
  EXPECT_EQ(a, "x@y.z");
  EXPECT_EQ(rest, " SIZE=5");
  EXPECT_TRUE(ParsePath("<>", &a, &rest));
  EXPECT_EQ(a, "");
  EXPECT_FALSE(ParsePath("<a b@c>", &a, &rest));
}

}  // namespace
}  // namespace penncloud::mail
