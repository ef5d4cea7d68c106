// Python's imaplib against the real imap binary, beside the real smtp and pop3 binaries on
// a real KVS group: folders, flags, APPEND to Sent, COPY/MOVE/EXPUNGE, UID commands, two
// sessions at once, IDLE during an SMTP delivery, and bad input; fetchmail and mbsync.
#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mail/mail_store.h"
#include "tests/mail/imap_system.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ImapClientsTest = ImapSystemTest;

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

// The binary without watches (--idle_watch=false): an idling session looks at its folder's
// counters every --idle_poll_ms (100 ms here), and that alone must bring the EXISTS.
class ImapPolledClientsTest : public ImapSystemTest {
 protected:
  std::vector<std::string> ExtraImapFlags() const override { return {"--idle_watch=false"}; }
};

TEST_F(ImapPolledClientsTest, IdleOverThePollHearsOfMailDeliveredBySmtpWithinOneSecond) {
  ShResult r = Imap("idle_during_smtp", std::to_string(sys_->smtp_port()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("pushed * 1 EXISTS"));
  auto at = r.output.find("push_ms ");
  ASSERT_NE(at, std::string::npos) << r.output;
  // One poll period (100 ms) after the entry is written, with room for a loaded machine.
  EXPECT_LT(std::stoi(r.output.substr(at + 8)), 1000) << r.output;
}

TEST_F(ImapClientsTest, SmtpSubmissionThenAppendToSentStoresOneCopy) {
  ShResult r = Imap("sent_once", std::to_string(sys_->smtp_port()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, ::testing::ContainsRegex("append OK \\[APPENDUID [0-9]+ 1\\]"));
  EXPECT_THAT(r.output, HasSubstr("sent_exists 1\n"));
  EXPECT_THAT(r.output, HasSubstr("append_new OK"));
  EXPECT_THAT(r.output, HasSubstr("sent_exists_after 2\n"));
  // Webmail's Sent (the store's listing) has the one copy; bob got his.
  mail::MailStore store(sys_->kvs());
  auto sent = store.ListAll("alice", mail::kSent);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->size(), 2u);
  EXPECT_EQ((*sent)[0].subject(), "sent once");
  EXPECT_EQ((*sent)[1].subject(), "sent once");
  EXPECT_TRUE((*sent)[0].seen() && (*sent)[1].seen());
  EXPECT_EQ(store.ListAll("bob", mail::kInbox)->size(), 1u);
}

TEST_F(ImapClientsTest, Pop3DeleMovesToTrashWhereImapSeesIt) {
  Deliver("oldest, deleted");
  Deliver("newer, kept");
  ShResult pop =
      Sh("/usr/bin/python3 " + MailSystem::Script("pop3_client.py") + " " +
         std::to_string(sys_->pop3_port()) + " alice " + MailSystem::kAlicePassword + " dele_quit");
  EXPECT_THAT(pop.output, HasSubstr("stat_after_dele 1")) << pop.output;
  mail::MailStore store(sys_->kvs());
  auto inbox = store.ListAll("alice", mail::kInbox);
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].subject(), "newer, kept");  // POP3's message 1 is the oldest
  auto trash = store.ListAll("alice", mail::kTrash);
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_EQ((*trash)[0].subject(), "oldest, deleted");
  ShResult status = Imap("status_trash");
  EXPECT_THAT(status.output, HasSubstr("trash (MESSAGES 1)")) << status.output;
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

// Linux delays an ACK by 40 ms at least, and Nagle's algorithm holds a short write back
// until the last one is acknowledged. A literal acknowledged that late held back the CRLF
// ending imaplib's APPEND (imaplib leaves Nagle on), so each APPEND took 40 ms or more
// whatever the store did (issue 19); and the server's own Nagle held a long reply's last
// TLS record back until the client acknowledged the one before. 35 ms leaves the
// scheduler room and is still below the timer's floor.
TEST_F(ImapClientsTest, NeitherSideWaitsForTheDelayedAckTimer) {
  ShResult r = Imap("literal_ack", "15");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int ack_ms = 1000, fetch_ms = 1000;
  ASSERT_EQ(sscanf(r.output.c_str(), "median_ack_ms %d\nmedian_fetch_ms %d", &ack_ms, &fetch_ms), 2)
      << r.output;
  EXPECT_LT(ack_ms, 35) << r.output;
  EXPECT_LT(fetch_ms, 35) << r.output;
}

TEST_F(ImapClientsTest, FetchmailOverImapMarksSeenAndKeeps) {
  Deliver("fetch one");
  Deliver("fetch two");
  // Over the implicit-TLS port: logins are refused in clear.
  auto [r, mbox] = sys_->FetchmailAsAlice("protocol IMAP port " + std::to_string(imaps_port_));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(mbox, HasSubstr("Subject: fetch one"));
  EXPECT_THAT(mbox, HasSubstr("Subject: fetch two"));
  // "keep": still there, now \Seen, which webmail shows as read.
  mail::MailStore store(sys_->kvs());
  auto inbox = store.ListAll("alice", mail::kInbox);
  ASSERT_EQ(inbox->size(), 2u);
  EXPECT_TRUE((*inbox)[0].seen() && (*inbox)[1].seen());
}

TEST_F(ImapClientsTest, MbsyncSyncsBothWays) {
  Deliver("down one");
  Deliver("down two");
  // mbsync reaches the implicit-TLS port through s_client, which trusts our certificate.
  auto mbsync = [&](const std::string& scenario) {
    return Sh("/usr/bin/python3 " + MailSystem::Script("mbsync_client.py") + " " +
              std::to_string(imaps_port_) + " " + MailSystem::kAlicePassword + " " + sys_->dir() +
              "/tls/mail.crt " + sys_->dir() + " " + scenario);
  };
  auto log = [&] { return Sh("cat " + sys_->dir() + "/mbsync.log").output; };
  ShResult down = mbsync("down");
  ASSERT_THAT(down.output, HasSubstr("sync 0")) << down.output << log();
  EXPECT_THAT(down.output, HasSubstr("down down one"));
  EXPECT_THAT(down.output, HasSubstr("down down two"));
  EXPECT_THAT(down.output, HasSubstr("folders Drafts INBOX Junk Sent Trash"));

  // Up: a flag changed in the maildir, a message written there, a folder made there.
  ShResult edit = mbsync("edit");
  ASSERT_THAT(edit.output, HasSubstr("sync 0")) << edit.output << log();
  mail::MailStore store(sys_->kvs());
  auto inbox = store.Mailbox("alice", mail::kInbox);
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->size(), 3u) << log();
  EXPECT_EQ((*inbox)[0].subject(), "down one");
  EXPECT_TRUE((*inbox)[0].flagged() && (*inbox)[0].seen());
  EXPECT_FALSE((*inbox)[1].flagged() || (*inbox)[1].seen());
  EXPECT_EQ((*inbox)[2].subject(), "made locally");
  ASSERT_TRUE(store.FolderExists("alice", "Local/Sub")) << log();
  auto sub = store.Mailbox("alice", "Local/Sub");
  ASSERT_EQ(sub->size(), 1u);
  EXPECT_EQ((*sub)[0].subject(), "filed locally");

  // Down again: a flag set and a message delivered on the server.
  ASSERT_TRUE(store
                  .UpdateFlags("alice", mail::kInbox, (*inbox)[1].id(),
                               [](mail::MessageFlags& f) { f.answered = true; })
                  .ok());
  Deliver("down three");
  ShResult again = mbsync("again");
  ASSERT_THAT(again.output, HasSubstr("sync 0")) << again.output << log();
  EXPECT_THAT(again.output, HasSubstr("local down one flags=FS"));
  EXPECT_THAT(again.output, HasSubstr("local down two flags=R"));
  EXPECT_THAT(again.output, HasSubstr("local made locally flags="));
  EXPECT_THAT(again.output, HasSubstr("local down three flags="));
  EXPECT_EQ(store.Mailbox("alice", mail::kInbox)->size(), 4u);  // nothing doubled
}

}  // namespace
}  // namespace penncloud::testing
