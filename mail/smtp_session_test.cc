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
    if (user == "newbie" && password == "newbie-password") return std::string("newbie");
    return absl::UnauthenticatedError("no");
  }
  absl::StatusOr<bool> LocalUserExists(std::string_view user) override {
    if (down) return absl::UnavailableError("down");
    return user == "alice" || user == "bob";
  }
  absl::StatusOr<bool> MaySendOutside(std::string_view user) override {
    if (down) return absl::UnavailableError("down");
    return user != "newbie";
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
  for (const char* ext :
       {"SIZE 33554432", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES", "STARTTLS"}) {
    EXPECT_NE(ehlo.find(ext), std::string::npos) << ext;
  }
  // The last line has a space after the code, all others a dash. No AUTH in clear.
  EXPECT_NE(ehlo.find("250 STARTTLS\r\n"), std::string::npos);
  EXPECT_EQ(ehlo.find("AUTH"), std::string::npos);
  EXPECT_EQ(Send("HELO x"), "250 penncloud.local\r\n");
  // Under TLS: AUTH, and no second STARTTLS.
  session_.OnTlsStarted();
  ehlo = Send("EHLO client.example");
  EXPECT_NE(ehlo.find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos);
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
}

TEST_F(SmtpSessionTest, AuthIsRefusedBeforeTls) {
  Send("EHLO c");
  EXPECT_EQ(Code(Cat("AUTH PLAIN ", Base64Encode(std::string("\0alice\0alice-password", 21)))),
            "530 5.7.0");
  EXPECT_EQ(Code("AUTH LOGIN"), "530 5.7.0");
  EXPECT_EQ(Code("AUTH PLAIN"), "530 5.7.0");
  EXPECT_EQ(session_.authenticated_user(), "");
  // The next line is a command, not a SASL response.
  EXPECT_EQ(Code("NOOP"), "250 2.0.0");
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
  Send("MAIL FROM:<someone@example.org>");
  EXPECT_EQ(Code("RCPT TO:<victim@example.com>"), "554 5.7.1");
  EXPECT_EQ(Code("RCPT TO:<victim@example.com"), "501 5.1.3");
  EXPECT_EQ(Code("DATA"), "554 5.5.1");
}

TEST_F(SmtpSessionTest, AuthPlainThenRelay) {
  session_.OnTlsStarted();
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
  EXPECT_NE(backend_.delivered[0].second.find("with ESMTPSA"), std::string::npos);
}

TEST_F(SmtpSessionTest, AuthLoginExactChallenges) {
  session_.OnTlsStarted();
  Send("EHLO c");
  EXPECT_EQ(Send("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(Send(Base64Encode("alice")), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(Code(Base64Encode("alice-password")), "235 2.7.0");
}

TEST_F(SmtpSessionTest, AuthLoginWithInitialUserAndCancel) {
  session_.OnTlsStarted();
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

// Sends a whole message (header lines, a blank line, a body) and returns the final reply.
std::string SendMessage(SmtpSession& session, std::string_view from_header) {
  session.OnLine("DATA");
  session.OnLine(from_header);
  session.OnLine("Subject: s");
  session.OnLine("");
  session.OnLine("body");
  return session.OnLine(".").text.substr(0, 9);
}

TEST_F(SmtpSessionTest, AuthenticatedSenderUsesOnlyOwnAddress) {
  session_.OnTlsStarted();
  Send("EHLO c");
  ASSERT_EQ(Code(Cat("AUTH PLAIN ", Base64Encode(std::string("\0alice\0alice-password", 21)))),
            "235 2.7.0");
  for (const char* other : {"<bob@penncloud.local>", "<mallory@example.com>", "<>",
                            "<alice@example.com>", "<alice.x@penncloud.local>"}) {
    EXPECT_EQ(Code(Cat("MAIL FROM:", other)), "553 5.7.1") << other;
  }
  // The own address, in any case.
  EXPECT_EQ(Code("MAIL FROM:<Alice@PennCloud.Local>"), "250 2.1.0");
  Send("RCPT TO:<carol@example.com>");
  EXPECT_EQ(SendMessage(session_, "From: Bob <bob@penncloud.local>"), "553 5.7.1");
  Send("MAIL FROM:<alice@penncloud.local>");
  Send("RCPT TO:<carol@example.com>");
  EXPECT_EQ(SendMessage(session_, "From: ceo@example.com"), "553 5.7.1");
  Send("MAIL FROM:<alice@penncloud.local>");
  Send("RCPT TO:<carol@example.com>");
  EXPECT_EQ(SendMessage(session_, "From: a@x.y, alice@penncloud.local"), "553 5.7.1");
  Send("MAIL FROM:<alice@penncloud.local>");
  Send("RCPT TO:<carol@example.com>");
  EXPECT_EQ(SendMessage(session_, "From: not an address"), "553 5.7.1");
  EXPECT_TRUE(backend_.delivered.empty());
  // Any display name with the own address is fine.
  Send("MAIL FROM:<alice@penncloud.local>");
  Send("RCPT TO:<carol@example.com>");
  EXPECT_EQ(SendMessage(session_, "From: \"Alice A.\" <ALICE@penncloud.local>"), "250 2.0.0");
  EXPECT_EQ(backend_.delivered.size(), 1u);
}

TEST_F(SmtpSessionTest, UnauthenticatedMayNotClaimALocalSender) {
  Send("EHLO c");
  EXPECT_EQ(Code("MAIL FROM:<admin@penncloud.local>"), "550 5.7.1");
  EXPECT_EQ(Code("MAIL FROM:<admin@PENNCLOUD.LOCAL>"), "550 5.7.1");
  // A foreign envelope sender with a local From: header is refused after DATA.
  for (const char* from : {"From: PennCloud Admin <admin@penncloud.local>",
                           "From: staff: admin@penncloud.local;", "FROM: bob@PennCloud.Local"}) {
    ASSERT_EQ(Code("MAIL FROM:<x@example.com>"), "250 2.1.0");
    Send("RCPT TO:<alice@penncloud.local>");
    EXPECT_EQ(SendMessage(session_, from), "550 5.7.1") << from;
  }
  EXPECT_TRUE(backend_.delivered.empty());
  // Foreign senders deliver as before.
  Send("MAIL FROM:<x@example.com>");
  Send("RCPT TO:<alice@penncloud.local>");
  EXPECT_EQ(SendMessage(session_, "From: X <x@example.com>"), "250 2.0.0");
}

TEST_F(SmtpSessionTest, TwoFromHeadersAreRefused) {
  Send("EHLO c");
  Send("MAIL FROM:<x@example.com>");
  Send("RCPT TO:<alice@penncloud.local>");
  Send("DATA");
  Send("From: x@example.com");
  Send("From: y@example.com");
  Send("");
  EXPECT_EQ(Code("."), "554 5.6.0");
  EXPECT_TRUE(backend_.delivered.empty());
}

// SMTP smuggling: a client ending DATA with <LF>.<LF> (or <CR>.<CR>) hoped we would see the
// end there and run what follows as commands, while the next hop sees one message.
TEST_F(SmtpSessionTest, BareLineEndsInDataAreRefused) {
  Send("EHLO c");
  Send("MAIL FROM:<x@example.com>");
  Send("RCPT TO:<alice@penncloud.local>");
  Send("DATA");
  Send("Subject: one");
  Send("");
  SessionOutput out = session_.OnLine(".", /*bare_lf=*/true);
  EXPECT_EQ(out.text.substr(0, 9), "521 5.5.2");
  EXPECT_TRUE(out.close);
  EXPECT_TRUE(backend_.delivered.empty());

  SmtpSession other(config_, backend_, "127.0.0.1", [] { return std::string("now"); });
  other.OnLine("EHLO c");
  other.OnLine("MAIL FROM:<x@example.com>");
  other.OnLine("RCPT TO:<alice@penncloud.local>");
  other.OnLine("DATA");
  EXPECT_EQ(other.OnLine("text\r.\rMAIL FROM:<admin@penncloud.local>").text.substr(0, 9),
            "521 5.5.2");
  EXPECT_TRUE(backend_.delivered.empty());

  // Commands may still end in a bare LF (sloppy clients), as may message text when CRLF.
  SmtpSession lenient(config_, backend_, "127.0.0.1", [] { return std::string("now"); });
  EXPECT_EQ(lenient.OnLine("EHLO c", true).text.substr(0, 3), "250");
  EXPECT_EQ(lenient.OnLine("NOOP", true).text.substr(0, 9), "250 2.0.0");
}

TEST_F(SmtpSessionTest, NewAccountsSendOnlyInsideTheDomain) {
  session_.OnTlsStarted();
  Send("EHLO c");
  ASSERT_EQ(Code(Cat("AUTH PLAIN ", Base64Encode(std::string("\0newbie\0newbie-password", 23)))),
            "235 2.7.0");
  Send("MAIL FROM:<newbie@penncloud.local>");
  EXPECT_EQ(Code("RCPT TO:<carol@example.com>"), "550 5.7.1");
  EXPECT_EQ(Code("RCPT TO:<alice@penncloud.local>"), "250 2.1.5");
  backend_.down = true;
  EXPECT_EQ(Code("RCPT TO:<carol@example.com>"), "451 4.3.0");
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

// Found by fuzz/smtp_session_fuzz.cc: a bare CR inside a HELO name or a path was accepted,
// then echoed into replies, the Received header of stored mail, and (relayed mail) the next
// hop's MAIL and RCPT commands.
TEST_F(SmtpSessionTest, ControlCharactersInHeloAndPathsAreRefused) {
  EXPECT_EQ(Code("EHLO b\rX-Injected: 1"), "501 5.5.4");
  EXPECT_EQ(Code(std::string("HELO a\0b", 8)), "501 5.5.4");
  EXPECT_EQ(Send("EHLO c").substr(0, 4), "250-");
  EXPECT_EQ(Code("MAIL FROM:<a\r@y.org>"), "501 5.1.7");
  EXPECT_EQ(Code("MAIL FROM:a\x7f@y.org"), "501 5.1.7");
  std::string a;
  std::string_view rest;
  EXPECT_FALSE(ParsePath("<x\rRCPT TO:v@penncloud.local>", &a, &rest));
  EXPECT_FALSE(ParsePath("<x@y.org>\r SIZE=1", &a, &rest));
  EXPECT_TRUE(ParsePath("<x@y.org>", &a, &rest));
}

}  // namespace
}  // namespace penncloud::mail
