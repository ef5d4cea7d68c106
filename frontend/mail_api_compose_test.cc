#include "frontend/mail_api_compose.h"

#include "frontend/mail_api_profile.h"
#include "frontend/mail_api_test_fixture.h"
#include "gtest/gtest.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

class ComposeTest : public MailApiFixture {
 protected:
  std::string SourceOf(const std::string& user, const std::string& id) {
    Response res = Call(user, "GET", "/api/mail/" + id + "/source");
    EXPECT_EQ(res.status, 200) << res.body;
    return res.body;
  }
  json Folder(const std::string& user, const std::string& folder) {
    return CallJson(user, "GET", "/api/mail?folder=" + folder)["messages"];
  }
};

TEST_F(ComposeTest, BccReachesItsRecipientAndNoHeader) {
  json sent = CallJson("alice", "POST", "/api/mail",
                       R"({"to":["bob"],"bcc":["carol"],"subject":"quiet","body":"hi"})", 201);
  for (const std::string user : {"bob", "carol"}) {
    json inbox = Inbox(user);
    ASSERT_EQ(inbox.size(), 1u) << user;
    std::string source = SourceOf(user, inbox[0]["id"]);
    EXPECT_EQ(source.find("carol"), std::string::npos) << user << ":\n" << source;
    EXPECT_EQ(source.find("Bcc"), std::string::npos) << user;
  }
  std::string stored = SourceOf("alice", sent["id"]);
  EXPECT_EQ(stored.find("carol"), std::string::npos) << stored;
}

TEST_F(ComposeTest, DraftsAreSavedReplacedAndSentOnce) {
  json made = CallJson("alice", "POST", "/api/mail/drafts",
                       R"({"to":["bob"],"bcc":["carol"],"subject":"v1","body":"first"})", 201);
  std::string id = made["id"];
  json drafts = Folder("alice", "drafts");
  ASSERT_EQ(drafts.size(), 1u);
  EXPECT_EQ(drafts[0]["subject"], "v1");
  EXPECT_EQ(drafts[0]["unread"], false);
  json opened = CallJson("alice", "GET", "/api/mail/" + id);
  EXPECT_EQ(opened["bcc"], json::array({"carol@penncloud.local"}));
  EXPECT_EQ(SourceOf("alice", id).find("carol"), std::string::npos);

  // Replacing keeps one draft, under a new id; the old id is gone.
  json replaced = CallJson("alice", "PUT", "/api/mail/drafts/" + id,
                           R"({"to":["bob"],"bcc":["carol"],"subject":"v2","body":"second"})");
  std::string id2 = replaced["id"];
  drafts = Folder("alice", "drafts");
  ASSERT_EQ(drafts.size(), 1u);
  EXPECT_EQ(drafts[0]["subject"], "v2");
  EXPECT_EQ(Call("alice", "PUT", "/api/mail/drafts/" + id, R"({"subject":"v3"})").status, 404);

  // Sending by id alone sends the draft as saved, Bcc included, and removes it.
  CallJson("alice", "POST", "/api/mail", json{{"draft", id2}}.dump(), 201);
  EXPECT_TRUE(Folder("alice", "drafts").empty());
  ASSERT_EQ(Inbox("bob").size(), 1u);
  EXPECT_EQ(Inbox("bob")[0]["subject"], "v2");
  EXPECT_EQ(Inbox("carol").size(), 1u);
  EXPECT_EQ(Call("alice", "POST", "/api/mail", json{{"draft", id2}}.dump()).status, 404);
  // Only drafts are drafts.
  std::string inbox_id = Inbox("bob")[0]["id"];
  EXPECT_EQ(Call("bob", "PUT", "/api/mail/drafts/" + inbox_id, "{}").status, 404);
  EXPECT_EQ(Call("bob", "POST", "/api/mail", json{{"draft", inbox_id}}.dump()).status, 404);
}

TEST_F(ComposeTest, DraftsObeyTheSendingLimits) {
  json many = json::array();
  for (int i = 0; i <= static_cast<int>(kMaxRecipients); ++i) {
    many.push_back("user" + std::to_string(i) + "@example.com");
  }
  EXPECT_EQ(Call("alice", "POST", "/api/mail/drafts", json{{"bcc", many}}.dump()).status, 400);
  EXPECT_EQ(Call("alice", "POST", "/api/mail", json{{"bcc", many}}.dump()).status, 400);
  EXPECT_EQ(Call("alice", "POST", "/api/mail/drafts", R"({"to":["a b@c"]})").status, 400);
  EXPECT_EQ(Call("alice", "POST", "/api/mail/drafts", R"({"subject":"a\r\nBcc: eve"})").status,
            400);
  // A draft needs no recipient yet; sending does.
  std::string id =
      CallJson("alice", "POST", "/api/mail/drafts", R"({"subject":"idea"})", 201)["id"];
  EXPECT_EQ(Call("alice", "POST", "/api/mail", json{{"draft", id}}.dump()).status, 400);
  EXPECT_EQ(Folder("alice", "drafts").size(), 1u);
}

TEST_F(ComposeTest, ReplyToAndTheDisplayName) {
  EXPECT_EQ(Call("bob", "PUT", "/api/account/profile",
                 R"({"display_name":"Bob \"B\" Smith","signature":"--\nBob"})")
                .status,
            200);
  EXPECT_EQ(CallJson("bob", "GET", "/api/account/profile")["signature"], "--\nBob");
  EXPECT_EQ(Call("bob", "PUT", "/api/account/profile", R"({"display_name":"a\nb"})").status, 400);
  EXPECT_EQ(Call("bob", "PUT", "/api/account/profile",
                 json{{"signature", std::string(kMaxSignatureBytes + 1, 'x')}}.dump())
                .status,
            400);
  CallJson("bob", "POST", "/api/mail", R"({"to":["alice"],"subject":"named"})", 201);
  json got = CallJson("alice", "GET", "/api/mail/" + Inbox("alice")[0]["id"].get<std::string>());
  EXPECT_NE(got["from"].get<std::string>().find("Smith"), std::string::npos) << got["from"];
  EXPECT_EQ(got["reply_to"], "");

  // A message naming a Reply-To reports it.
  mail::MailStore store(kvs_);
  ASSERT_TRUE(store
                  .Add("alice", "inbox",
                       "From: list@example.com\r\nReply-To: answers@example.com\r\n"
                       "Subject: list\r\n\r\nbody\r\n",
                       false)
                  .ok());
  for (const json& m : Inbox("alice")) {
    if (m["subject"] != "list") continue;
    EXPECT_EQ(CallJson("alice", "GET", "/api/mail/" + m["id"].get<std::string>())["reply_to"],
              "answers@example.com");
  }
}

TEST_F(ComposeTest, EmptyingTrashDeletesOnlyTrash) {
  for (int i = 0; i < 3; ++i) {
    CallJson("alice", "POST", "/api/mail", R"({"to":["bob"],"subject":"x"})", 201);
  }
  json inbox = Inbox("bob");
  CallJson("bob", "DELETE", "/api/mail/" + inbox[0]["id"].get<std::string>());
  CallJson("bob", "DELETE", "/api/mail/" + inbox[1]["id"].get<std::string>());
  json emptied = CallJson("bob", "POST", "/api/mail/folders/empty", R"({"name":"trash"})");
  EXPECT_EQ(emptied["deleted"], 2);
  EXPECT_EQ(emptied["more"], false);
  EXPECT_TRUE(Folder("bob", "trash").empty());
  EXPECT_EQ(Inbox("bob").size(), 1u);
  EXPECT_EQ(Call("bob", "POST", "/api/mail/folders/empty", R"({"name":"inbox"})").status, 400);
}

}  // namespace
}  // namespace penncloud::frontend
