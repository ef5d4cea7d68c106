#include "mail/pop3_session.h"

#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

absl::StatusOr<std::string> CheckPassword(std::string_view user, std::string_view password) {
  if ((user == "alice" || user == "bob") && password == Cat(user, "-password")) {
    return std::string(user);
  }
  return absl::UnauthenticatedError("bad");
}

std::string Message(std::string_view subject, std::string_view body) {
  return Cat("From: bob@penncloud.local\r\nTo: alice@penncloud.local\r\nSubject: ", subject,
             "\r\n\r\n", body);
}

class Pop3SessionTest : public ::testing::Test {
 protected:
  Pop3SessionTest() {
    config_.tls_available = true;
    first_ = *store_.Add("alice", kInbox, Message("one", "line 1\r\n.dot\r\nline 3\r\n"), false);
    second_ = *store_.Add("alice", kInbox, Message("two", "x\r\n"), false);
  }
  // A session whose connection is under TLS already (after STLS or on the POP3S port)
  // unless `tls` is false.
  std::unique_ptr<Pop3Session> NewSession(std::string owner, bool tls = true) {
    auto session = std::make_unique<Pop3Session>(config_, store_, CheckPassword, std::move(owner));
    if (tls) session->OnTlsStarted();
    return session;
  }
  std::string Send(std::string_view line) { return session_->OnLine(line).text; }

  kvs::MemoryClient kvs_;
  MailStore store_{kvs_};
  Pop3Config config_;
  pb::MessageMeta first_, second_;
  std::unique_ptr<Pop3Session> session_ = NewSession("s1");
};

// The exchange Thunderbird's POP3 client performs with "leave messages on server" and
// "Normal password": CAPA, AUTH PLAIN with an empty "+ " challenge and the token on its
// own line, STAT, LIST, UIDL, then TOP n 20 for large messages or RETR, and QUIT.
TEST_F(Pop3SessionTest, ThunderbirdPlainLeaveOnServer) {
  session_ = NewSession("s1", /*tls=*/false);
  EXPECT_EQ(session_->Greeting().substr(0, 4), "+OK ");
  std::string capa = Send("CAPA");
  EXPECT_TRUE(capa.starts_with("+OK"));
  EXPECT_TRUE(capa.ends_with("\r\n.\r\n"));
  EXPECT_NE(capa.find("\r\nSTLS\r\n"), std::string::npos);
  EXPECT_EQ(capa.find("USER"), std::string::npos);  // no login offered in clear
  EXPECT_EQ(capa.find("SASL"), std::string::npos);
  ASSERT_TRUE(session_->OnLine("STLS").start_tls);
  session_->OnTlsStarted();
  capa = Send("CAPA");
  for (const char* c : {"\r\nTOP\r\n", "\r\nUIDL\r\n", "\r\nUSER\r\n", "\r\nSASL PLAIN LOGIN\r\n",
                        "\r\nRESP-CODES\r\n"}) {
    EXPECT_NE(capa.find(c), std::string::npos) << c;
  }
  EXPECT_EQ(capa.find("STLS"), std::string::npos);
  EXPECT_EQ(Send("AUTH PLAIN"), "+ \r\n");
  EXPECT_EQ(Send(Base64Encode(std::string("\0alice\0alice-password", 21))),
            "+OK alice has 2 messages\r\n");
  int64_t total = first_.size() + second_.size();
  EXPECT_EQ(Send("STAT"), Cat("+OK 2 ", total, "\r\n"));
  EXPECT_EQ(Send("LIST"), Cat("+OK\r\n1 ", first_.size(), "\r\n2 ", second_.size(), "\r\n.\r\n"));
  EXPECT_EQ(Send("UIDL"), Cat("+OK\r\n1 ", first_.id(), "\r\n2 ", second_.id(), "\r\n.\r\n"));
  EXPECT_EQ(Send("TOP 1 0"),
            "+OK\r\nFrom: bob@penncloud.local\r\nTo: alice@penncloud.local\r\nSubject: one\r\n"
            "\r\n.\r\n");
  EXPECT_EQ(Send("TOP 1 2"),
            "+OK\r\nFrom: bob@penncloud.local\r\nTo: alice@penncloud.local\r\nSubject: one\r\n"
            "\r\nline 1\r\n..dot\r\n.\r\n");
  std::string retr = Send("RETR 1");
  EXPECT_EQ(retr, Cat("+OK ", first_.size(), " octets\r\n",
                      "From: bob@penncloud.local\r\nTo: alice@penncloud.local\r\nSubject: one\r\n"
                      "\r\nline 1\r\n..dot\r\nline 3\r\n.\r\n"));
  EXPECT_TRUE(store_.Find("alice", first_.id())->seen());  // webmail shows it as read
  SessionOutput quit = session_->OnLine("QUIT");
  EXPECT_TRUE(quit.text.starts_with("+OK"));
  EXPECT_TRUE(quit.close);
  EXPECT_EQ(store_.ListAll("alice", kInbox)->size(), 2u);
}

// Thunderbird's AUTH LOGIN: it sends the user name whatever the first challenge says, and
// needs a "+" continuation before sending the password.
TEST_F(Pop3SessionTest, ThunderbirdLoginMechanism) {
  EXPECT_EQ(Send("AUTH LOGIN"), "+ VXNlcm5hbWU6\r\n");
  EXPECT_EQ(Send(Base64Encode("alice@penncloud.local")), "+ UGFzc3dvcmQ6\r\n");
  EXPECT_TRUE(Send(Base64Encode("alice-password")).starts_with("+OK"));
}

TEST_F(Pop3SessionTest, UserPassAndFailures) {
  EXPECT_EQ(Send("PASS x"), "-ERR Send USER first\r\n");
  Send("USER alice");
  EXPECT_EQ(Send("PASS wrong"), "-ERR [AUTH] Invalid user name or password\r\n");
  EXPECT_EQ(Send("STAT").substr(0, 4), "-ERR");
  EXPECT_EQ(Send("AUTH"), "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
  Send("USER alice");
  EXPECT_TRUE(Send("PASS alice-password").starts_with("+OK"));
  EXPECT_EQ(Send("USER bob").substr(0, 4), "-ERR");
  EXPECT_EQ(Send("CAPA").find("USER"), std::string::npos);
}

TEST_F(Pop3SessionTest, DeleTakesEffectOnlyAtQuit) {
  Send("USER alice");
  Send("PASS alice-password");
  EXPECT_EQ(Send("DELE 1"), "+OK Message 1 deleted\r\n");
  EXPECT_EQ(Send("DELE 1"), "-ERR Message already deleted\r\n");
  // Found by pop3_session_fuzz: the argument was echoed, bare CR and all.
  EXPECT_EQ(Send("DELE 02\r"), "+OK Message 2 deleted\r\n");
  EXPECT_EQ(Send("RSET").substr(0, 3), "+OK");
  EXPECT_EQ(Send("DELE 1"), "+OK Message 1 deleted\r\n");
  EXPECT_EQ(Send("RETR 1"), "-ERR Message already deleted\r\n");
  EXPECT_EQ(Send("STAT"), Cat("+OK 1 ", second_.size(), "\r\n"));
  EXPECT_EQ(Send("LIST"), Cat("+OK\r\n2 ", second_.size(), "\r\n.\r\n"));
  EXPECT_EQ(store_.ListAll("alice", kInbox)->size(), 2u);  // not yet
  Send("QUIT");
  auto left = store_.ListAll("alice", kInbox);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id(), second_.id());
  // The deleted one waits in Trash, same id, until Trash is emptied.
  auto trash = store_.ListAll("alice", kTrash);
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_EQ((*trash)[0].id(), first_.id());
}

TEST_F(Pop3SessionTest, DeleLeavesAMessageFiledElsewhereMeanwhile) {
  Send("USER alice");
  Send("PASS alice-password");
  Send("DELE 2");
  // An IMAP client files message 2 into Drafts before this session quits.
  ASSERT_TRUE(store_.Move("alice", second_.id(), kDrafts).ok());
  EXPECT_TRUE(Send("QUIT").starts_with("+OK"));
  EXPECT_EQ(store_.Find("alice", second_.id())->folder(), kDrafts);
  EXPECT_TRUE(store_.ListAll("alice", kTrash)->empty());
}

TEST_F(Pop3SessionTest, RsetRestoresAndDroppedConnectionDeletesNothing) {
  Send("USER alice");
  Send("PASS alice-password");
  Send("DELE 1");
  Send("DELE 2");
  EXPECT_EQ(Send("RSET"), "+OK 2 messages\r\n");
  EXPECT_TRUE(Send("RETR 1").starts_with("+OK"));
  Send("DELE 2");
  session_->OnDisconnect();
  EXPECT_EQ(store_.ListAll("alice", kInbox)->size(), 2u);
  // The lock is released: a new session gets in.
  auto next = NewSession("s2");
  next->OnLine("USER alice");
  EXPECT_TRUE(next->OnLine("PASS alice-password").text.starts_with("+OK alice has 2"));
}

TEST_F(Pop3SessionTest, OneSessionPerMailbox) {
  Send("USER alice");
  Send("PASS alice-password");
  auto other = NewSession("s2");
  other->OnLine("USER alice");
  EXPECT_EQ(other->OnLine("PASS alice-password").text,
            "-ERR [IN-USE] Mailbox is in use by another session\r\n");
  Send("QUIT");
  other->OnLine("USER alice");
  EXPECT_TRUE(other->OnLine("PASS alice-password").text.starts_with("+OK"));
}

TEST_F(Pop3SessionTest, BadArguments) {
  Send("USER alice");
  Send("PASS alice-password");
  EXPECT_EQ(Send("RETR 0"), "-ERR No such message\r\n");
  EXPECT_EQ(Send("RETR 3"), "-ERR No such message\r\n");
  EXPECT_EQ(Send("RETR x"), "-ERR No such message\r\n");
  EXPECT_EQ(Send("TOP 1"), "-ERR Missing argument\r\n");
  EXPECT_EQ(Send("TOP 1 -1"), "-ERR Bad line count\r\n");
  EXPECT_EQ(Send("UIDL 2"), Cat("+OK 2 ", second_.id(), "\r\n"));
  EXPECT_EQ(Send("NOOP"), "+OK\r\n");
  EXPECT_EQ(Send("FROB"), "-ERR Command not valid in this state\r\n");
}

TEST_F(Pop3SessionTest, LoginsAreRefusedBeforeTls) {
  session_ = NewSession("s1", /*tls=*/false);
  for (const char* command : {"USER alice", "PASS alice-password", "APOP alice 0123456789abcdef",
                              "AUTH", "AUTH PLAIN", "AUTH LOGIN"}) {
    EXPECT_TRUE(Send(command).starts_with("-ERR [AUTH] Plaintext authentication disallowed"))
        << command;
  }
  // AUTH PLAIN with an initial response: refused before the password is even decoded.
  EXPECT_TRUE(Send(Cat("AUTH PLAIN ", Base64Encode(std::string("\0alice\0alice-password", 21))))
                  .starts_with("-ERR"));
  EXPECT_EQ(Send("STAT").substr(0, 4), "-ERR");
  // A USER sent before STLS does not carry over into the TLS session.
  session_ = NewSession("s2", /*tls=*/false);
  Send("USER alice");
  session_->OnLine("STLS");
  session_->OnTlsStarted();
  EXPECT_EQ(Send("PASS alice-password"), "-ERR Send USER first\r\n");
}

TEST_F(Pop3SessionTest, Stls) {
  session_ = NewSession("s1", /*tls=*/false);
  SessionOutput out = session_->OnLine("STLS");
  EXPECT_TRUE(out.start_tls);
  session_->OnTlsStarted();
  EXPECT_EQ(Send("CAPA").find("STLS"), std::string::npos);
  EXPECT_EQ(Send("STLS").substr(0, 4), "-ERR");
}

}  // namespace
}  // namespace penncloud::mail
