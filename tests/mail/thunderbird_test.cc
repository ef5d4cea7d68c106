// A real Thunderbird (Debian's thunderbird, headless, driven over Marionette by
// thunderbird_client.py) against the imap and smtp binaries: account set-up over implicit
// TLS, fetching the Inbox, moving a message into a folder, sending with a Sent copy. What
// it did must be what webmail lists: the mail API's own handlers, over the same store, asked
// as alice logged in with her password.
#include "accounts/accounts.h"
#include "frontend/api_context.h"
#include "frontend/mail_api.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/router.h"
#include "mail/mail_store.h"
#include "nlohmann/json.hpp"
#include "tests/mail/imap_system.h"

namespace penncloud::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The subjects webmail lists in one of alice's folders.
std::vector<std::string> WebmailSubjects(kvs::Client& kvs, const std::string& folder) {
  accounts::Accounts accounts(&kvs);
  frontend::ApiContext ctx;
  ctx.store = &kvs;
  ctx.accounts = &accounts;
  http::Router router;
  frontend::RegisterMailRoutes(router, ctx);
  auto login = accounts.LogIn("alice", MailSystem::kAlicePassword);
  EXPECT_TRUE(login.ok()) << login.status();
  if (!login.ok()) return {};
  http::Request req;
  req.method = "GET";
  req.target = "/api/mail?folder=" + folder;
  req.headers.Add("Cookie", "pc_session=" + login->token);
  http::ParseTarget(req);
  http::Response res = router.Dispatch(req);
  EXPECT_EQ(res.status, 200) << res.body;
  const nlohmann::json listing = nlohmann::json::parse(res.body, nullptr, false);
  std::vector<std::string> subjects;
  for (const auto& m : listing.value("messages", nlohmann::json::array())) {
    subjects.push_back(m.value("subject", ""));
  }
  return subjects;
}

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

  EXPECT_THAT(WebmailSubjects(sys_->kvs(), "inbox"), ElementsAre("hello thunderbird"));
  EXPECT_THAT(WebmailSubjects(sys_->kvs(), "Filed"), ElementsAre("move me"));
  EXPECT_THAT(WebmailSubjects(sys_->kvs(), "sent"), ElementsAre("from thunderbird"));
}

}  // namespace
}  // namespace penncloud::testing
