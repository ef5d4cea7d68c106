#include "frontend/mail_api.h"

#include "absl/strings/escaping.h"
#include "accounts/sending_policy.h"
#include "frontend/mail_api_test_fixture.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "mail/mail_store.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

class MailApiTest : public MailApiFixture {};

TEST_F(MailApiTest, SendReadReplyForwardDelete) {
  std::string attachment("\x00\x01binary\xff", 9);
  json sent = CallJson("alice", "POST", "/api/mail",
                       json{{"to", {"bob"}},
                            {"cc", {"carol@penncloud.local"}},
                            {"subject", "Lunch?"},
                            {"body", "At noon.\n"},
                            {"attachments",
                             {{{"filename", "menu.bin"},
                               {"content_type", "application/octet-stream"},
                               {"data", absl::Base64Escape(attachment)}}}}}
                           .dump(),
                       201);
  EXPECT_EQ(sent["folder"], "sent");
  EXPECT_EQ(CallJson("alice", "GET", "/api/mail?folder=sent")["messages"].size(), 1u);

  json bob_inbox = Inbox("bob");
  ASSERT_EQ(bob_inbox.size(), 1u);
  EXPECT_EQ(bob_inbox[0]["subject"], "Lunch?");
  EXPECT_EQ(bob_inbox[0]["unread"], true);
  EXPECT_EQ(Inbox("carol").size(), 1u);
  EXPECT_EQ(CallJson("bob", "GET", "/api/mail/counts")["inbox"]["unread"], 1);

  std::string id = bob_inbox[0]["id"];
  json message = CallJson("bob", "GET", "/api/mail/" + id);
  EXPECT_EQ(message["body"], "At noon.\n");
  EXPECT_NE(message["from"].get<std::string>().find("alice@penncloud.local"), std::string::npos);
  EXPECT_NE(message["cc"].get<std::string>().find("carol@penncloud.local"), std::string::npos);
  ASSERT_EQ(message["attachments"].size(), 1u);
  EXPECT_EQ(message["attachments"][0]["filename"], "menu.bin");
  EXPECT_EQ(Inbox("bob")[0]["unread"], false);  // reading marked it

  Response download = Call("bob", "GET", "/api/mail/" + id + "/attachments/0");
  EXPECT_EQ(download.status, 200);
  EXPECT_EQ(download.body, attachment);
  EXPECT_NE(std::string(download.headers.Get("Content-Disposition")).find("attachment;"),
            std::string::npos);
  EXPECT_EQ(Call("bob", "GET", "/api/mail/" + id + "/attachments/1").status, 404);
  // Nobody else can read Bob's message.
  EXPECT_EQ(Call("alice", "GET", "/api/mail/" + id).status, 404);
  EXPECT_EQ(Call("", "GET", "/api/mail/" + id).status, 401);

  // Reply threads under the original; forward carries the attachment.
  CallJson(
      "bob", "POST", "/api/mail",
      json{{"to", {"alice"}}, {"subject", "Re: Lunch?"}, {"body", "Yes"}, {"reply_to", id}}.dump(),
      201);
  json reply_id = Inbox("alice")[0]["id"];
  Response source = Call("alice", "GET", "/api/mail/" + reply_id.get<std::string>() + "/source");
  EXPECT_NE(source.body.find("In-Reply-To: <"), std::string::npos);
  CallJson(
      "bob", "POST", "/api/mail",
      json{{"to", "carol"}, {"subject", "Fwd: Lunch?"}, {"body", "fyi"}, {"forward", id}}.dump(),
      201);
  json fwd = Inbox("carol", "&q=fwd");
  ASSERT_EQ(fwd.size(), 1u);
  EXPECT_EQ(fwd[0]["has_attachments"], true);

  // Delete: to Trash, then from Trash for good.
  EXPECT_EQ(CallJson("bob", "DELETE", "/api/mail/" + id)["folder"], "trash");
  EXPECT_EQ(Inbox("bob").size(), 0u);
  EXPECT_EQ(CallJson("bob", "GET", "/api/mail?folder=trash")["messages"].size(), 1u);
  EXPECT_EQ(CallJson("bob", "DELETE", "/api/mail/" + id)["deleted"], true);
  EXPECT_EQ(CallJson("bob", "GET", "/api/mail?folder=trash")["messages"].size(), 0u);
}

TEST_F(MailApiTest, SearchPagingAndFlags) {
  for (int i = 0; i < 5; ++i) {
    CallJson("alice", "POST", "/api/mail",
             json{{"to", {"bob"}}, {"subject", "note " + std::to_string(i)}, {"body", "x"}}.dump(),
             201);
  }
  CallJson("carol", "POST", "/api/mail",
           json{{"to", {"bob"}}, {"subject", "other"}, {"body", "x"}}.dump(), 201);
  json page = CallJson("bob", "GET", "/api/mail?folder=inbox&limit=4");
  EXPECT_EQ(page["messages"].size(), 4u);
  EXPECT_EQ(page["messages"][0]["subject"], "other");  // newest first
  json rest = CallJson("bob", "GET",
                       "/api/mail?folder=inbox&limit=4&cursor=" + page["next"].get<std::string>());
  EXPECT_EQ(rest["messages"].size(), 2u);
  EXPECT_EQ(rest["next"], "");
  EXPECT_EQ(Inbox("bob", "&q=CAROL").size(), 1u);  // by sender, any case
  EXPECT_EQ(Inbox("bob", "&q=note").size(), 5u);   // by subject
  std::string id = page["messages"][0]["id"];
  CallJson("bob", "POST", "/api/mail/" + id + "/flags", R"({"unread":false})");
  EXPECT_EQ(CallJson("bob", "GET", "/api/mail/counts")["inbox"]["unread"], 5);
}

TEST_F(MailApiTest, HtmlBodyIsServedUnderASandboxingCsp) {
  mail::MailStore store(kvs_);
  auto meta =
      store.Add("bob", mail::kInbox,
                "From: x@example.com\r\nSubject: hostile\r\nContent-Type: text/html\r\n\r\n"
                "<p>hi</p><script>alert(1)</script><img src=\"http://evil.example/t.png\">\r\n",
                false);
  ASSERT_TRUE(meta.ok());
  Response res = Call("bob", "GET", "/api/mail/" + meta->id() + "/html");
  EXPECT_EQ(res.status, 200);
  std::string csp(res.headers.Get("Content-Security-Policy"));
  EXPECT_TRUE(csp.starts_with("sandbox "));
  EXPECT_EQ(csp.find("allow-scripts"), std::string::npos);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("http:"), std::string::npos);
  EXPECT_NE(res.body.find("<p>hi</p>"), std::string::npos);
  res = Call("bob", "GET", "/api/mail/" + meta->id() + "/html?images=1");
  EXPECT_NE(
      std::string(res.headers.Get("Content-Security-Policy")).find("img-src data: https: http:"),
      std::string::npos);
  EXPECT_EQ(Call("alice", "GET", "/api/mail/" + meta->id() + "/html").status, 404);
}

TEST_F(MailApiTest, BadRequests) {
  EXPECT_EQ(Call("alice", "GET", "/api/mail?folder=spam").status, 400);
  EXPECT_EQ(Call("alice", "POST", "/api/mail", R"({"subject":"x"})").status, 400);
  EXPECT_EQ(Call("alice", "POST", "/api/mail", R"({"to":["nobody"]})").status, 400);
  EXPECT_EQ(Call("alice", "POST", "/api/mail", R"({"to":["a b@c"]})").status, 400);
  EXPECT_EQ(Call("alice", "GET", "/api/mail/nope").status, 404);
  // A state change without the CSRF token is refused.
  Request req;
  req.method = "POST";
  req.target = "/api/mail";
  req.body = R"({"to":["bob"]})";
  req.headers.Add("Cookie", "pc_session=" + sessions_["alice"].first);
  ParseTarget(req);
  EXPECT_EQ(router_.Dispatch(req).status, 403);
}

// Issue 16: CR/LF in a compose field became a header line of its own (here a Bcc to eve).
TEST_F(MailApiTest, ComposeFieldsCannotInjectHeaders) {
  auto with_attachment = [](const std::string& filename, const std::string& type) {
    return json{
        {"to", {"bob"}},
        {"subject", "hi"},
        {"attachments", {{{"filename", filename}, {"content_type", type}, {"data", "eA=="}}}}}
        .dump();
  };
  const std::string kInject = "\r\nBcc: eve@example.com";
  for (const std::string& body :
       {with_attachment("a.txt" + kInject, "text/plain"),
        with_attachment("a.txt", "text/plain" + kInject), with_attachment("a.txt", "text/plain;x"),
        json{{"to", {"bob"}}, {"subject", "hi" + kInject}}.dump(),
        json{{"to", {"bob" + kInject}}}.dump(), json{{"to", {std::string("bob\0", 4)}}}.dump()}) {
    Response res = Call("alice", "POST", "/api/mail", body);
    EXPECT_EQ(res.status, 400) << body << " -> " << res.body;
  }
  EXPECT_EQ(Inbox("bob").size(), 0u);
  auto queued = kvs_.List("mailq", kvs::ListOptions{});
  ASSERT_TRUE(queued.ok());
  EXPECT_TRUE(queued->cells.empty());
  EXPECT_EQ(CallJson("alice", "GET", "/api/mail?folder=sent")["messages"].size(), 0u);

  // A non-ASCII name is fine, sent as an RFC 2231 parameter and read back intact.
  CallJson("alice", "POST", "/api/mail",
           with_attachment("Gr\xc3\xbc\xc3\x9f"
                           "e \xe2\x82\xac.txt",
                           "text/plain"),
           201);
  std::string id = Inbox("bob")[0]["id"];
  Response source = Call("bob", "GET", "/api/mail/" + id + "/source");
  EXPECT_NE(source.body.find("filename*="), std::string::npos) << source.body;
  EXPECT_EQ(source.body.find("Bcc"), std::string::npos);
  EXPECT_EQ(CallJson("bob", "GET", "/api/mail/" + id)["attachments"][0]["filename"],
            "Gr\xc3\xbc\xc3\x9f"
            "e \xe2\x82\xac.txt");
}

// Replying to or forwarding a hostile message copies only what is safe from it.
TEST_F(MailApiTest, ReplyAndForwardOfHostileMailStayClean) {
  mail::MailStore store(kvs_);
  auto meta = store.Add(
      "bob", mail::kInbox,
      "From: x@example.com\r\nSubject: hostile\r\nMessage-ID: <m1@example.com>\r\n"
      "References: <r0@example.com> garbage\r\n <r1@example.com>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
      "hi\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
      "filename*=utf-8''evil%0D%0ABcc%3A%20eve%40example.com.txt\r\n\r\ndata\r\n--b--\r\n",
      false);
  ASSERT_TRUE(meta.ok());
  CallJson("bob", "POST", "/api/mail",
           json{{"to", {"alice"}}, {"subject", "Re"}, {"reply_to", meta->id()}}.dump(), 201);
  CallJson("bob", "POST", "/api/mail",
           json{{"to", {"carol"}}, {"subject", "Fwd"}, {"forward", meta->id()}}.dump(), 201);
  std::string reply =
      Call("alice", "GET", "/api/mail/" + Inbox("alice")[0]["id"].get<std::string>() + "/source")
          .body;
  EXPECT_NE(reply.find("<r0@example.com> <r1@example.com> <m1@example.com>"), std::string::npos)
      << reply;
  std::string forward =
      Call("carol", "GET", "/api/mail/" + Inbox("carol")[0]["id"].get<std::string>() + "/source")
          .body;
  EXPECT_EQ(forward.find("\nBcc"), std::string::npos) << forward;
}

TEST_F(MailApiTest, NewAccountsSendOnlyInsideTheDomain) {
  Response res = Call("bob", "POST", "/api/mail",
                      json{{"to", {"dave@example.com", "alice"}}, {"subject", "hi"}}.dump());
  EXPECT_EQ(res.status, 403) << res.body;
  EXPECT_EQ(Inbox("alice").size(), 0u);  // nothing went anywhere
  CallJson("bob", "POST", "/api/mail", json{{"to", {"alice"}}, {"subject", "hi"}}.dump(), 201);
  ASSERT_TRUE(accounts::SendingPolicy(&kvs_).SetAllowed("bob", true).ok());
  CallJson("bob", "POST", "/api/mail", json{{"to", {"dave@example.com"}}}.dump(), 201);
}

TEST_F(MailApiTest, ExternalRecipientsGoToTheOutboundQueue) {
  ASSERT_TRUE(accounts::SendingPolicy(&kvs_).SetAllowed("alice", true).ok());
  CallJson("alice", "POST", "/api/mail",
           json{{"to", {"dave@example.com", "bob"}}, {"subject", "hi"}, {"body", "x"}}.dump(), 201);
  EXPECT_EQ(Inbox("bob").size(), 1u);
  kvs::ListOptions options;
  auto queued = kvs_.List("mailq", options);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->cells.size(), 1u);
}

}  // namespace
}  // namespace penncloud::frontend

namespace penncloud::frontend {
namespace {

TEST_F(MailApiTest, FoldersMoveRestoreAndFlags) {
  CallJson("alice", "POST", "/api/mail",
           R"({"to":["bob@penncloud.local"],"subject":"folders","body":"x"})", 201);
  std::string id = Inbox("bob")[0]["id"];
  json folders = CallJson("bob", "GET", "/api/mail/folders")["folders"];
  ASSERT_EQ(folders.size(), 5u);
  EXPECT_EQ(folders[0]["name"], "inbox");
  EXPECT_EQ(folders[0]["special"], "inbox");
  EXPECT_EQ(folders[0]["unread"], 1);
  EXPECT_EQ(folders[4]["name"], "junk");
  EXPECT_EQ(Call("bob", "POST", "/api/mail/folders", R"({"name":"Work/2026"})").status, 201);
  EXPECT_EQ(Call("bob", "POST", "/api/mail/folders", R"({"name":"Work/2026"})").status, 409);
  EXPECT_EQ(Call("bob", "POST", "/api/mail/folders", R"({"name":"a//b"})").status, 400);
  EXPECT_EQ(Call("bob", "POST", "/api/mail/folders", R"({"name":"Trash"})").status, 400);
  // Move into the user folder, list it, then to Trash and restore from there.
  EXPECT_EQ(
      CallJson("bob", "POST", "/api/mail/" + id + "/move", R"({"folder":"Work/2026"})")["folder"],
      "Work/2026");
  EXPECT_EQ(CallJson("bob", "GET", "/api/mail?folder=Work/2026")["messages"].size(), 1u);
  EXPECT_EQ(Call("bob", "GET", "/api/mail?folder=Nope").status, 400);
  EXPECT_EQ(Call("bob", "POST", "/api/mail/" + id + "/move", R"({"folder":"Nope"})").status, 404);
  EXPECT_EQ(CallJson("bob", "DELETE", "/api/mail/" + id)["folder"], "trash");
  EXPECT_EQ(CallJson("bob", "POST", "/api/mail/" + id + "/move", R"({"folder":"inbox"})")["folder"],
            "inbox");
  // Mark unread and flagged, separately or together.
  json flags = CallJson("bob", "POST", "/api/mail/" + id + "/flags", R"({"flagged":true})");
  EXPECT_EQ(flags["flagged"], true);
  EXPECT_EQ(Inbox("bob")[0]["flagged"], true);
  EXPECT_EQ(CallJson("bob", "POST", "/api/mail/" + id + "/flags", R"({"unread":true})")["unread"],
            true);
  EXPECT_EQ(Call("bob", "POST", "/api/mail/" + id + "/flags", R"({})").status, 400);
  EXPECT_EQ(Call("bob", "POST", "/api/mail/" + id + "/flags", R"({"flagged":"yes"})").status, 400);
  // Rename (subfolders follow), delete.
  EXPECT_EQ(
      Call("bob", "POST", "/api/mail/folders/rename", R"({"from":"Work","to":"Jobs"})").status,
      200);
  folders = CallJson("bob", "GET", "/api/mail/folders")["folders"];
  EXPECT_EQ(folders[5]["name"], "Jobs");
  EXPECT_EQ(folders[6]["name"], "Jobs/2026");
  EXPECT_FALSE(folders[5].contains("special"));
  EXPECT_EQ(Call("bob", "DELETE", "/api/mail/folders?name=Jobs").status, 409);
  EXPECT_EQ(Call("bob", "DELETE", "/api/mail/folders?name=Jobs/2026").status, 200);
  EXPECT_EQ(Call("bob", "DELETE", "/api/mail/folders?name=inbox").status, 400);
  EXPECT_EQ(Call("bob", "DELETE", "/api/mail/folders?name=Jobs/2026").status, 404);
  // Another user's folders are not ours.
  EXPECT_EQ(CallJson("alice", "GET", "/api/mail/folders")["folders"].size(), 5u);
}

}  // namespace
}  // namespace penncloud::frontend
