// Real mail clients against the real smtp and pop3 processes on a real KVS group.
#include <chrono>
#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;

class MailClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto system = MailSystem::Start();
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
  }
  std::string Smtp() const { return "127.0.0.1:" + std::to_string(sys_->smtp_port()); }
  // curl's POP3 URL, with STLS required (logins are refused in clear) and the self-signed
  // certificate accepted.
  std::string Pop3(const std::string& user, const std::string& password,
                   const std::string& path = "") const {
    return "--ssl-reqd -k pop3://" + user + ":" + password +
           "@127.0.0.1:" + std::to_string(sys_->pop3_port()) + "/" + path;
  }
  std::string Swaks(const std::string& args) const {
    return "swaks --server 127.0.0.1 --port " + std::to_string(sys_->smtp_port()) +
           " --timeout 20 " + args;
  }
  ShResult PopStat(const std::string& user = "alice",
                   const std::string& password = MailSystem::kAlicePassword) {
    return Sh("/usr/bin/python3 " + MailSystem::Script("pop3_client.py") + " " +
              std::to_string(sys_->pop3_port()) + " " + user + " " + password + " stat");
  }

  std::unique_ptr<MailSystem> sys_;
};

TEST_F(MailClientsTest, CurlSendsBySmtpAndRetrievesByPop3) {
  std::string msg = sys_->dir() + "/msg.txt";
  std::ofstream(msg) << "From: bob@example.com\r\nTo: alice@penncloud.local\r\n"
                        "Subject: curl hello\r\n\r\nHi Alice,\r\n.a line with a dot\r\n";
  ShResult send = Sh("curl -sS smtp://" + Smtp() +
                     " --mail-from bob@example.com --mail-rcpt alice@penncloud.local"
                     " --upload-file " +
                     msg);
  ASSERT_EQ(send.exit_code, 0) << send.output;
  ShResult list = Sh("curl -sS " + Pop3("alice", MailSystem::kAlicePassword));
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_THAT(list.output, ::testing::MatchesRegex("1 [0-9]+\r?\n"));
  ShResult retr = Sh("curl -sS " + Pop3("alice", MailSystem::kAlicePassword, "1"));
  ASSERT_EQ(retr.exit_code, 0) << retr.output;
  EXPECT_THAT(retr.output, HasSubstr("Subject: curl hello"));
  EXPECT_THAT(retr.output, HasSubstr("\r\n.a line with a dot\r\n"));  // unstuffed again
  EXPECT_THAT(retr.output, HasSubstr("Received: from "));
  // Bob's box is separate; a wrong password gets nothing.
  EXPECT_THAT(Sh("curl -sS " + Pop3("bob", MailSystem::kBobPassword)).output,
              ::testing::Not(HasSubstr("1 ")));
  EXPECT_NE(Sh("curl -sS " + Pop3("alice", "wrong-password")).exit_code, 0);
}

TEST_F(MailClientsTest, SwaksAuthMechanismsStartTlsAndPipelining) {
  std::string to_external = " --from alice@penncloud.local --to carol@example.com";
  // AUTH PLAIN and LOGIN (after STARTTLS) with the web password; relay to another domain
  // is then allowed.
  for (const char* mech : {"PLAIN", "LOGIN"}) {
    ShResult r =
        Sh(Swaks(std::string("--tls --auth ") + mech + " --auth-user alice --auth-password " +
                 MailSystem::kAlicePassword + to_external));
    EXPECT_EQ(r.exit_code, 0) << mech << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("235 2.7.0"));
  }
  ShResult bad =
      Sh(Swaks("--tls --auth LOGIN --auth-user alice --auth-password wrong-one" + to_external));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.output, HasSubstr("535 5.7.8"));
  // STARTTLS, then AUTH inside TLS.
  ShResult tls =
      Sh(Swaks("--tls --auth PLAIN --auth-user alice@penncloud.local "
               "--auth-password " +
               std::string(MailSystem::kAlicePassword) +
               " --from alice@penncloud.local --to bob@penncloud.local"));
  EXPECT_EQ(tls.exit_code, 0) << tls.output;
  EXPECT_THAT(tls.output, HasSubstr("TLS started"));
  // PIPELINING: MAIL, RCPT and DATA sent in one go.
  ShResult pipe = Sh(Swaks("--pipeline --from x@example.org --to bob@penncloud.local"));
  EXPECT_EQ(pipe.exit_code, 0) << pipe.output;
  EXPECT_THAT(PopStat("bob", MailSystem::kBobPassword).output, HasSubstr("stat 2"));
}

TEST_F(MailClientsTest, OpenRelayIsRefused) {
  ShResult r = Sh(Swaks("--from spammer@example.org --to victim@example.com"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("554 5.7.1"));
  // A forged local sender is refused before any recipient.
  r = Sh(Swaks("--from alice@penncloud.local --to victim@example.com"));
  EXPECT_THAT(r.output, HasSubstr("550 5.7.1"));
  // Unknown local users are refused too.
  r = Sh(Swaks("--from x@example.org --to nobody@penncloud.local"));
  EXPECT_THAT(r.output, HasSubstr("550 5.1.1"));
  // Nothing reached the queue: the sink (never started) has nothing, and no bounce appears.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_THAT(PopStat().output, HasSubstr("stat 0"));
}

TEST_F(MailClientsTest, PoplibUidlTopAndDeleSemantics) {
  ShResult sent =
      Sh("/usr/bin/python3 " + MailSystem::Script("smtp_client.py") + " " +
         std::to_string(sys_->smtp_port()) + " bob@example.com alice@penncloud.local 3");
  ASSERT_THAT(sent.output, HasSubstr("sent 3"));
  std::string pop = "/usr/bin/python3 " + MailSystem::Script("pop3_client.py") + " " +
                    std::to_string(sys_->pop3_port()) + " alice " + MailSystem::kAlicePassword +
                    " ";
  ShResult inspect = Sh(pop + "inspect");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_THAT(inspect.output, HasSubstr("stat 3"));
  EXPECT_THAT(inspect.output, HasSubstr("top_has_subject True"));
  EXPECT_THAT(inspect.output, HasSubstr("top_body_lines 0"));
  EXPECT_THAT(inspect.output, HasSubstr("retr_last .leading dot line"));
  // UIDLs are stable across sessions.
  std::string uidl_line = inspect.output.substr(inspect.output.find("uidl "));
  uidl_line = uidl_line.substr(0, uidl_line.find('\n'));
  EXPECT_THAT(Sh(pop + "inspect").output, HasSubstr(uidl_line));

  // DELE then a dropped connection: nothing is deleted, and the mailbox is free again.
  EXPECT_THAT(Sh(pop + "dele_drop").output, HasSubstr("dropped"));
  EXPECT_THAT(Sh(pop + "stat").output, HasSubstr("stat 3"));
  EXPECT_THAT(Sh(pop + "dele_rset").output, HasSubstr("stat_after_rset 3"));
  // DELE then QUIT: deleted.
  EXPECT_THAT(Sh(pop + "dele_quit").output, HasSubstr("stat_after_dele 2"));
  EXPECT_THAT(Sh(pop + "stat").output, HasSubstr("stat 2"));
  // One session per mailbox.
  EXPECT_THAT(Sh(pop + "lock").output, HasSubstr("second_login -ERR [IN-USE]"));
  // STLS with the generated self-signed certificate.
  EXPECT_THAT(Sh(pop + "stls").output, HasSubstr("stls_stat 2"));
}

TEST_F(MailClientsTest, FetchmailDownloadsAndKeeps) {
  Sh("/usr/bin/python3 " + MailSystem::Script("smtp_client.py") + " " +
     std::to_string(sys_->smtp_port()) + " bob@example.com alice@penncloud.local 2");
  // Over POP3S (implicit TLS): logins are refused in clear.
  auto [r, mbox] =
      sys_->FetchmailAsAlice("protocol pop3 port " + std::to_string(sys_->pop3s_port()) + " uidl");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(mbox, HasSubstr("Subject: msg 0-0"));
  EXPECT_THAT(mbox, HasSubstr("Subject: msg 0-1"));
  EXPECT_THAT(PopStat().output, HasSubstr("stat 2"));  // "keep" left them on the server
}

TEST_F(MailClientsTest, ConcurrentDeliveriesAreAllKept) {
  ShResult sent =
      Sh("/usr/bin/python3 " + MailSystem::Script("smtp_client.py") + " " +
         std::to_string(sys_->smtp_port()) + " bob@example.com alice@penncloud.local 60 6");
  ASSERT_THAT(sent.output, HasSubstr("sent 60"));
  EXPECT_THAT(PopStat().output, HasSubstr("stat 60"));
}

TEST_F(MailClientsTest, AcknowledgedMailSurvivesKillOfSmtp) {
  ShResult sent =
      Sh("/usr/bin/python3 " + MailSystem::Script("smtp_client.py") + " " +
         std::to_string(sys_->smtp_port()) + " bob@example.com alice@penncloud.local 5");
  ASSERT_THAT(sent.output, HasSubstr("sent 5"));
  sys_->KillSmtp();
  EXPECT_THAT(PopStat().output, HasSubstr("stat 5"));
}

}  // namespace
}  // namespace penncloud::testing
