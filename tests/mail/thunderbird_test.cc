// A real Thunderbird (Debian's thunderbird, headless, driven over Marionette by
// thunderbird_client.py) against the imap and smtp binaries: account set-up over implicit
// TLS, fetching the Inbox, moving a message into a folder, sending with a Sent copy. What
// it did must be what webmail lists (the store's listings the mail API serves).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mail/mail_store.h"
#include "tests/mail/imap_system.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;

using ThunderbirdTest = ImapSystemTest;

TEST_F(ThunderbirdTest, FetchesMovesAndSendsWithOneSentCopy) {
  if (Sh("command -v thunderbird").exit_code != 0) {
    FAIL() << "thunderbird is not installed: run scripts/setup.sh, which installs it";
  }
  Deliver("hello thunderbird");
  Deliver("move me");
  mail::MailStore store(sys_->kvs());
  ASSERT_TRUE(store.CreateFolder("alice", "Filed").ok());

  ShResult r = Sh("/usr/bin/python3 " + MailSystem::Script("thunderbird_client.py") + " " +
                  std::to_string(imaps_port_) + " " + std::to_string(sys_->smtps_port()) + " " +
                  MailSystem::kAlicePassword + " " + sys_->dir() + "/tls/mail.crt " + sys_->dir());
  std::string log = Sh("tail -30 " + sys_->dir() + "/thunderbird.log").output;
  ASSERT_EQ(r.exit_code, 0) << r.output << log;
  EXPECT_THAT(r.output, HasSubstr("configure ok"));
  EXPECT_THAT(r.output, HasSubstr("fetched hello thunderbird,move me"));
  EXPECT_THAT(r.output, HasSubstr("move 0"));  // the copy service reports success
  EXPECT_THAT(r.output, HasSubstr("send sent 0 fcc 0"));

  auto inbox = store.ListAll("alice", mail::kInbox);
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].subject(), "hello thunderbird");
  auto filed = store.ListAll("alice", "Filed");
  ASSERT_EQ(filed->size(), 1u);
  EXPECT_EQ((*filed)[0].subject(), "move me");
  // One Sent copy: the SMTP server filed it, Thunderbird's APPEND found it there.
  auto sent = store.ListAll("alice", mail::kSent);
  ASSERT_EQ(sent->size(), 1u);
  EXPECT_EQ((*sent)[0].subject(), "from thunderbird");
  auto bob = store.ListAll("bob", mail::kInbox);
  ASSERT_EQ(bob->size(), 1u);
  EXPECT_EQ((*bob)[0].subject(), "from thunderbird");
}

}  // namespace
}  // namespace penncloud::testing
