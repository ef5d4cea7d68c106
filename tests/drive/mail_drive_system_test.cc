// Mail and drive together on the real system (KVS group, coordinator, frontend), with curl
// through the coordinator: an attachment saved to the drive (never replacing, hostile names
// made safe), drive files attached to a sent message and to a draft, and every way to reach
// someone else's mail or files (another account, no session, no CSRF token) refused.
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/drive/drive_fixture.h"

namespace penncloud::testing {
namespace {

using nlohmann::json;

class MailDriveSystemTest : public DriveFixture {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Start({"alice", "bob", "carol"})); }

  // DriveFixture::As with a JSON value (null: no body).
  Reply As(const std::string& user, const std::string& method, const std::string& path,
           const json& body = nullptr, bool csrf = true) {
    return DriveFixture::As(user, method, path, body.is_null() ? "" : body.dump(), csrf);
  }
  std::string Download(const std::string& user, const std::string& path) {
    std::string file = dir_ + "/download.bin";
    Reply r = Curl(absl::StrCat("-b ", dir_, "/", user, ".jar"), path, file);
    EXPECT_EQ(r.status, 200) << path;
    std::string bytes;
    Shell(absl::StrCat("cat '", file, "'"), &bytes);
    return bytes;
  }
  // The id of the newest message in `user`'s inbox with `subject`, or "".
  std::string InboxId(const std::string& user, const std::string& subject) {
    Reply r = As(user, "GET", "/api/mail?folder=inbox");
    EXPECT_EQ(r.status, 200) << r.body;
    json listing = r.Json();  // kept alive: the loop walks into it
    for (const auto& m : listing["messages"]) {
      if (m["subject"] == subject) return m["id"];
    }
    return "";
  }
};

TEST_F(MailDriveSystemTest, SaveToDriveLandsTheAttachmentAndNeverReplaces) {
  const std::string pdf = "%PDF-1.4 quarterly figures \x01\x02\xff";
  json mail = {{"to", {"bob"}},
               {"subject", "report"},
               {"body", "see attached"},
               {"attachments",
                {{{"filename", "report.pdf"},
                  {"content_type", "application/pdf"},
                  {"data", absl::Base64Escape(pdf)}},
                 {{"filename", "../../etc/passwd"},
                  {"content_type", "text/plain"},
                  {"data", absl::Base64Escape("root:x:0:0")}}}}};
  ASSERT_EQ(As("alice", "POST", "/api/mail", mail).status, 201);
  std::string id = InboxId("bob", "report");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(As("bob", "POST", "/api/files/folder", {{"path", "/Mail"}}).status, 201);
  const std::string save = "/api/mail/" + id + "/attachments/0/save";

  Reply first = As("bob", "POST", save, {{"path", "/Mail"}});
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Json()["path"], "/Mail/report.pdf");
  EXPECT_EQ(first.Json()["size"], pdf.size());
  EXPECT_EQ(Download("bob", "/api/files/content?path=/Mail/report.pdf"), pdf);

  // A second save keeps both.
  Reply second = As("bob", "POST", save, {{"path", "/Mail"}});
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(second.Json()["path"], "/Mail/report (2).pdf");
  EXPECT_EQ(Download("bob", "/api/files/content?path=/Mail/report%20(2).pdf"), pdf);

  // The sender's name cannot climb out of the folder.
  Reply hostile = As("bob", "POST", "/api/mail/" + id + "/attachments/1/save", {{"path", "/Mail"}});
  ASSERT_EQ(hostile.status, 201) << hostile.body;
  EXPECT_EQ(hostile.Json()["path"], "/Mail/.._.._etc_passwd");

  // A chosen name, checked like any drive name.
  EXPECT_EQ(As("bob", "POST", save, {{"path", "/"}, {"name", "q3.pdf"}}).Json()["path"], "/q3.pdf");
  EXPECT_EQ(As("bob", "POST", save, {{"path", "/"}, {"name", "a/b"}}).status, 400);

  // Bad requests: no folder, a file as the folder, a missing folder, a climbing path, a
  // missing attachment, a missing message.
  EXPECT_EQ(As("bob", "POST", save, json::object()).status, 400);
  EXPECT_EQ(As("bob", "POST", save, {{"path", "/Mail/report.pdf"}}).status, 409);
  EXPECT_EQ(As("bob", "POST", save, {{"path", "/Nowhere"}}).status, 404);
  EXPECT_EQ(As("bob", "POST", save, {{"path", "/Mail/../.."}}).status, 400);
  EXPECT_EQ(As("bob", "POST", "/api/mail/" + id + "/attachments/7/save", {{"path", "/"}}).status,
            404);
  EXPECT_EQ(As("bob", "POST", "/api/mail/no-such-id/attachments/0/save", {{"path", "/"}}).status,
            404);

  // Someone else's message is not there for them; no session, no token: refused.
  ASSERT_EQ(As("carol", "POST", "/api/files/folder", {{"path", "/Mail"}}).status, 201);
  EXPECT_EQ(As("carol", "POST", save, {{"path", "/Mail"}}).status, 404);
  EXPECT_EQ(As("carol", "GET", "/api/files?path=/Mail").Json()["entries"].size(), 0u);
  EXPECT_EQ(As("", "POST", save, {{"path", "/Mail"}}).status, 401);
  EXPECT_EQ(As("bob", "POST", save, {{"path", "/Mail"}}, /*csrf=*/false).status, 403);
  // Nothing else landed in bob's folder.
  EXPECT_EQ(As("bob", "GET", "/api/files?path=/Mail").Json()["entries"].size(), 3u);
}

TEST_F(MailDriveSystemTest, AttachFromDriveSendsTheFileAndRefusesOthersFiles) {
  const std::string notes = "hello from the drive\n";
  ASSERT_EQ(Put("alice", "/notes.txt", notes).status, 201);
  ASSERT_EQ(As("alice", "POST", "/api/files/folder", {{"path", "/Docs"}}).status, 201);
  ASSERT_EQ(Put("bob", "/private.txt", "bob's own").status, 201);

  json mail = {{"to", {"bob"}},
               {"subject", "from the drive"},
               {"body", "attached from my drive"},
               {"drive_attachments", {"/notes.txt"}}};
  Reply sent = As("alice", "POST", "/api/mail", mail);
  ASSERT_EQ(sent.status, 201) << sent.body;
  std::string id = InboxId("bob", "from the drive");
  ASSERT_FALSE(id.empty());
  Reply read = As("bob", "GET", "/api/mail/" + id);
  ASSERT_EQ(read.status, 200);
  auto attachments = read.Json()["attachments"];
  ASSERT_EQ(attachments.size(), 1u) << read.body;
  EXPECT_EQ(attachments[0]["filename"], "notes.txt");
  EXPECT_EQ(attachments[0]["size"], notes.size());
  EXPECT_EQ(Download("bob", "/api/mail/" + id + "/attachments/0"), notes);

  // A draft keeps drive files like uploaded ones.
  json draft = {{"to", {"bob"}}, {"subject", "draft"}, {"drive_attachments", {"/notes.txt"}}};
  Reply saved = As("alice", "POST", "/api/mail/drafts", draft);
  ASSERT_EQ(saved.status, 201) << saved.body;
  Reply opened = As("alice", "GET", "/api/mail/" + saved.Json()["id"].get<std::string>());
  ASSERT_EQ(opened.Json()["attachments"].size(), 1u) << opened.body;
  EXPECT_EQ(opened.Json()["attachments"][0]["filename"], "notes.txt");

  // Bob's file is not in alice's drive; a missing file, a folder, a bad list: refused, and
  // nothing is sent.
  auto with = [&](const json& list) {
    json m = {{"to", {"bob"}}, {"subject", "refused"}, {"drive_attachments", list}};
    return As("alice", "POST", "/api/mail", m);
  };
  EXPECT_EQ(with(json::array({"/private.txt"})).status, 404);
  EXPECT_EQ(with(json::array({"/missing.txt"})).status, 404);
  EXPECT_EQ(with(json::array({"/Docs"})).status, 400);
  EXPECT_EQ(with("/notes.txt").status, 400);
  EXPECT_EQ(with(json::array({7})).status, 400);
  EXPECT_EQ(with(json::array({"/../notes.txt"})).status, 400);
  json many = json::array();
  for (int i = 0; i < 51; ++i) many.push_back("/notes.txt");
  EXPECT_EQ(with(many).status, 400);
  EXPECT_TRUE(InboxId("bob", "refused").empty());

  // Over the message limit (32 MiB): refused before the file is read.
  ASSERT_EQ(Put("alice", "/big.bin", std::string((32 << 20) + 1, 'b')).status, 201);
  Reply big = with(json::array({"/big.bin"}));
  EXPECT_EQ(big.status, 400);
  EXPECT_NE(big.body.find("32 MiB"), std::string::npos) << big.body;
  EXPECT_TRUE(InboxId("bob", "refused").empty());
}

// "Shared with me" works both ways: a recipient attaches a file of a share to a message and
// saves an attachment into a "write" share (the owner's drive holds it); errors name the
// recipient's paths; a "read" share takes nothing and a stranger reaches nothing.
TEST_F(MailDriveSystemTest, SharedFilesAreAttachedAndSavedThroughTheirShare) {
  const std::string plan = "the plan\n";
  ASSERT_EQ(As("alice", "POST", "/api/files/folder", {{"path", "/Team"}}).status, 201);
  ASSERT_EQ(Put("alice", "/Team/plan.txt", plan).status, 201);
  ASSERT_EQ(As("alice", "POST", "/api/shares",
               {{"path", "/Team"}, {"user", "bob"}, {"permission", "write"}})
                .status,
            201);
  const std::string team = "/Shared with me/alice/Team";

  json mail = {{"to", {"carol"}},
               {"subject", "the plan"},
               {"body", "from alice's folder"},
               {"drive_attachments", {team + "/plan.txt"}}};
  ASSERT_EQ(As("bob", "POST", "/api/mail", mail).status, 201);
  std::string id = InboxId("carol", "the plan");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Download("carol", "/api/mail/" + id + "/attachments/0"), plan);

  json gone = {{"to", {"carol"}}, {"subject", "gone"}, {"drive_attachments", {team + "/gone.txt"}}};
  Reply missing = As("bob", "POST", "/api/mail", gone);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Json()["error"], "no such file or folder: " + team + "/gone.txt")
      << missing.body;
  gone["drive_attachments"] = {team + "/plan.txt"};
  EXPECT_EQ(As("carol", "POST", "/api/mail", gone).status, 404);  // no share to carol
  EXPECT_TRUE(InboxId("carol", "gone").empty());

  // Bob saves carol's attachment into the share: it lands in alice's folder.
  json minutes = {{"to", {"bob"}},
                  {"subject", "minutes"},
                  {"body", "attached"},
                  {"attachments",
                   {{{"filename", "minutes.txt"},
                     {"content_type", "text/plain"},
                     {"data", absl::Base64Escape("we agreed")}}}}};
  ASSERT_EQ(As("carol", "POST", "/api/mail", minutes).status, 201);
  std::string minutes_id = InboxId("bob", "minutes");
  ASSERT_FALSE(minutes_id.empty());
  const std::string save = "/api/mail/" + minutes_id + "/attachments/0/save";
  Reply saved = As("bob", "POST", save, {{"path", team}});
  ASSERT_EQ(saved.status, 201) << saved.body;
  EXPECT_EQ(saved.Json()["path"], team + "/minutes.txt");
  EXPECT_EQ(Download("alice", "/api/files/content?path=/Team/minutes.txt"), "we agreed");
  Reply nowhere = As("bob", "POST", save, {{"path", team + "/Nowhere"}});
  EXPECT_EQ(nowhere.status, 404);
  EXPECT_EQ(nowhere.Json()["error"], "no such file or folder: " + team + "/Nowhere")
      << nowhere.body;

  // A "read" share takes no saves.
  ASSERT_EQ(As("alice", "POST", "/api/shares",
               {{"path", "/Team"}, {"user", "carol"}, {"permission", "read"}})
                .status,
            201);
  EXPECT_EQ(As("carol", "POST", "/api/mail/" + id + "/attachments/0/save", {{"path", team}}).status,
            403);
  EXPECT_EQ(As("alice", "GET", "/api/files?path=/Team").Json()["entries"].size(), 2u);
}

}  // namespace
}  // namespace penncloud::testing
