// Python's imaplib against the real imap binary, beside the real smtp and pop3 binaries on
// a real KVS group: folders, flags, APPEND to Sent, COPY/MOVE/EXPUNGE, UID commands, two
// sessions at once, IDLE during an SMTP delivery, and bad input.
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mail/mail_store.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ImapClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto system = MailSystem::Start();
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
    imap_port_ = FreePort();
    imaps_port_ = FreePort();
    auto imap = Process::Start(
        BinaryPath("imap"),
        {"--port=" + std::to_string(imap_port_), "--imaps_port=" + std::to_string(imaps_port_),
         "--kvs=" + sys_->kvs_spec(), "--state_dir=" + sys_->dir(), "--idle_poll_ms=100"},
        sys_->dir() + "/imap.log");
    ASSERT_TRUE(imap.ok()) << imap.status();
    imap_ = std::move(*imap);
    ASSERT_TRUE(WaitForPort(imap_port_) && WaitForPort(imaps_port_));
  }
  ShResult Imap(const std::string& scenario, const std::string& extra = "", int port = 0) {
    return Sh("/usr/bin/python3 " + MailSystem::Script("imap_client.py") + " " +
              std::to_string(port ? port : imap_port_) + " alice " + MailSystem::kAlicePassword +
              " " + scenario + " " + extra);
  }
  void Deliver(const std::string& subject) {
    mail::MailStore store(sys_->kvs());
    auto added =
        store.Add("alice", mail::kInbox,
                  "From: bob@example.com\r\nTo: alice@penncloud.local\r\nSubject: " + subject +
                      "\r\n\r\nbody of " + subject + "\r\n",
                  false);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  std::unique_ptr<MailSystem> sys_;
  Process imap_;
  int imap_port_ = 0, imaps_port_ = 0;
};

TEST_F(ImapClientsTest, LoginIsRefusedBeforeStartTls) {
  ShResult r = Imap("plain_login");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("LOGINDISABLED"));
  EXPECT_THAT(r.output, HasSubstr("STARTTLS"));
  EXPECT_THAT(r.output, HasSubstr("login refused"));
  Deliver("over tls");
  ShResult tls = Imap("implicit_tls", "", imaps_port_);
  ASSERT_EQ(tls.exit_code, 0) << tls.output;
  EXPECT_THAT(tls.output, HasSubstr("select OK 1"));
}

TEST_F(ImapClientsTest, FoldersFlagsCopyMoveAppendExpunge) {
  Deliver("first");
  Deliver("second");
  Deliver("third");
  ShResult r = Imap("basics");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("IDLE"));
  EXPECT_THAT(r.output, HasSubstr("list (\\HasNoChildren \\Sent) \"/\" \"Sent\""));
  EXPECT_THAT(r.output, HasSubstr("list (\\HasNoChildren \\Junk) \"/\" \"Junk\""));
  EXPECT_THAT(r.output, HasSubstr("exists 3\n"));
  EXPECT_THAT(r.output, HasSubstr("subject Subject: first"));
  EXPECT_THAT(r.output, HasSubstr("flags_before 1 (FLAGS ())"));
  EXPECT_THAT(r.output, HasSubstr("store 1 (FLAGS (\\Flagged))"));
  EXPECT_THAT(r.output, HasSubstr("body_subject first"));
  EXPECT_THAT(r.output, HasSubstr("flags_after 1 (FLAGS (\\Flagged \\Seen))"));
  EXPECT_THAT(r.output, HasSubstr("uid_fetch 1 (UID 1 FLAGS (\\Flagged \\Seen)) 2 (UID 2 "));
  EXPECT_THAT(r.output, HasSubstr("uid_search_unseen 2 3\n"));
  EXPECT_THAT(r.output, HasSubstr("search_subject 2\n"));
  EXPECT_THAT(r.output, HasSubstr("create OK"));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("copy OK \\[COPYUID [0-9]+ 1 1\\]"));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("move OK [0-9]+ 2 1"));
  EXPECT_THAT(r.output, HasSubstr("move_expunge 2"));
  EXPECT_THAT(r.output, HasSubstr("status \"Work/Projects\" (MESSAGES 1 UIDNEXT 2)"));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("append OK \\[APPENDUID [0-9]+ 1\\]"));
  EXPECT_THAT(r.output, HasSubstr("expunge 1"));
  EXPECT_THAT(r.output, HasSubstr("exists_after 1\n"));
  EXPECT_THAT(r.output, HasSubstr("done ok"));

  // What the client did is what webmail lists (the API's store calls) and POP3 serves.
  mail::MailStore store(sys_->kvs());
  auto sent = store.ListAll("alice", mail::kSent);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->size(), 1u);
  EXPECT_EQ((*sent)[0].subject(), "thunderbird sent copy");
  EXPECT_TRUE((*sent)[0].seen());
  auto trash = store.ListAll("alice", mail::kTrash);
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_EQ((*trash)[0].subject(), "second");
  EXPECT_EQ(store.ListAll("alice", "Work/Projects")->size(), 1u);
  auto inbox = store.ListAll("alice", mail::kInbox);
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].subject(), "third");
  ShResult pop =
      Sh("/usr/bin/python3 " + MailSystem::Script("pop3_client.py") + " " +
         std::to_string(sys_->pop3_port()) + " alice " + MailSystem::kAlicePassword + " stat");
  EXPECT_THAT(pop.output, HasSubstr("stat 1")) << pop.output;
}

TEST_F(ImapClientsTest, TwoSessionsSeeEachOthersFlagsAndExpunges) {
  Deliver("one");
  Deliver("two");
  ShResult r = Imap("two_sessions");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("b_sees_flags 1 (UID 1 FLAGS (\\Flagged $Important))"));
  EXPECT_THAT(r.output, HasSubstr("b_sees_expunge 2"));
  EXPECT_THAT(r.output, HasSubstr("b_exists 1"));
}

TEST_F(ImapClientsTest, IdleHearsOfMailDeliveredBySmtpWithinOneSecond) {
  ShResult r = Imap("idle_during_smtp", std::to_string(sys_->smtp_port()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("idle_reply + idling"));
  EXPECT_THAT(r.output, HasSubstr("pushed * 1 EXISTS"));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("done_reply [A-Z]+[0-9]+ OK IDLE terminated"));
  auto at = r.output.find("push_ms ");
  ASSERT_NE(at, std::string::npos) << r.output;
  EXPECT_LT(std::stoi(r.output.substr(at + 8)), 1000) << r.output;
}

TEST_F(ImapClientsTest, BadInputGetsTaggedAnswersAndNeverHangs) {
  Deliver("x");
  ShResult r = Imap("bad_input");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("reply x1 BAD"));
  EXPECT_THAT(r.output, HasSubstr("reply x2 BAD"));
  EXPECT_THAT(r.output, HasSubstr("reply x3 BAD"));
  EXPECT_THAT(r.output, HasSubstr("reply x4 NO [TOOBIG]"));
  EXPECT_THAT(r.output, HasSubstr("reply x5 BAD"));
  EXPECT_THAT(r.output, HasSubstr("still_alive x6 OK"));
  EXPECT_THAT(r.output, HasSubstr("nonsync * BYE [TOOBIG]"));
  EXPECT_THAT(r.output, HasSubstr("after_bye closed"));
  EXPECT_THAT(r.output, Not(HasSubstr("Traceback")));
}

TEST_F(ImapClientsTest, FetchmailOverImapMarksSeenAndKeeps) {
  Deliver("fetch one");
  Deliver("fetch two");
  std::string rc = sys_->dir() + "/fetchmailrc";
  std::string out = sys_->dir() + "/fetched.mbox";
  // Over the implicit-TLS port: logins are refused in clear.
  std::ofstream(rc) << "set no syslog\npoll 127.0.0.1 protocol IMAP port " << imaps_port_
                    << "\n  user \"alice\" password \"" << MailSystem::kAlicePassword
                    << "\" keep ssl no sslcertck mda \"cat >> " << out << "\"\n";
  ShResult r = Sh("chmod 600 " + rc + " && HOME=" + sys_->dir() + " fetchmail -f " + rc + " -i " +
                  sys_->dir() + "/fetchids -v 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(out);
  std::string mbox((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(mbox, HasSubstr("Subject: fetch one"));
  EXPECT_THAT(mbox, HasSubstr("Subject: fetch two"));
  // "keep": still there, now \Seen, which webmail shows as read.
  mail::MailStore store(sys_->kvs());
  auto inbox = store.ListAll("alice", mail::kInbox);
  ASSERT_EQ(inbox->size(), 2u);
  EXPECT_TRUE((*inbox)[0].seen() && (*inbox)[1].seen());
}

}  // namespace
}  // namespace penncloud::testing
