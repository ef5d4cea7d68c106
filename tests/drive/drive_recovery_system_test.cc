// Trash, versions and name search on the real system (3-replica KVS group, coordinator,
// frontend), through the coordinator with curl and rclone:
// - a replaced file's old version is listed, downloaded and restored; a deleted folder is
//   listed in the trash, found by no search, restored whole, and found again;
// - another account and an anonymous client get nothing from trash, versions or search;
// - rclone over WebDAV sees neither the trash nor older versions as files.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/drive/drive_fixture.h"

namespace penncloud::testing {
namespace {

class DriveRecoveryTest : public DriveFixture {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Start({})); }

  // curl through the coordinator as `user` ("" = no session); `args` come before the URL.
  Reply Curl(const std::string& user, const std::string& csrf, const std::string& args,
             const std::string& target) {
    std::string auth = user.empty() ? ""
                                    : absl::StrCat("-b '", dir_, "/", user,
                                                   ".jar' -H 'X-CSRF-Token: ", csrf, "' ");
    return RunCurl(cluster_->http_port(), dir_, auth + args, target);
  }
  Reply Put(const std::string& user, const std::string& csrf, const std::string& path,
            const std::string& text) {
    std::string file = dir_ + "/put.tmp";
    Shell(absl::StrCat("printf '%s' '", text, "' > '", file, "'"));
    return Curl(user, csrf, absl::StrCat("-T '", file, "'"), "/api/files/content?path=" + path);
  }
};

TEST_F(DriveRecoveryTest, VersionsTrashAndSearchOverCurl) {
  auto alice = cluster_->SignUp("alice");
  auto bob = cluster_->SignUp("bob");
  ASSERT_TRUE(alice.ok() && bob.ok());
  ASSERT_EQ(
      Curl("alice", *alice, "-X POST -d '{\"path\":\"/Reports\"}'", "/api/files/folder").status,
      201);
  ASSERT_EQ(Put("alice", *alice, "/Reports/Q3-Résumé.txt", "first draft").status, 201);
  ASSERT_EQ(Put("alice", *alice, "/Reports/Q3-Résumé.txt", "final text").status, 200);
  const std::string file = "/Reports/Q3-R%C3%A9sum%C3%A9.txt";

  // Versions: listed, downloaded, restored (the current one kept in turn).
  Reply versions = Curl("alice", *alice, "", "/api/files/versions?path=" + file);
  ASSERT_EQ(versions.status, 200) << versions.body;
  ASSERT_EQ(versions.Json()["versions"].size(), 1u) << versions.body;
  std::string id = versions.Json()["versions"][0]["id"];
  EXPECT_EQ(Curl("alice", *alice, "", "/api/files/content?path=" + file + "&version=" + id).body,
            "first draft");
  EXPECT_EQ(Curl("bob", *bob, "", "/api/files/content?path=" + file + "&version=" + id).status,
            404);
  EXPECT_EQ(Curl("", "", "", "/api/files/versions?path=" + file).status, 401);
  Reply restored =
      Curl("alice", *alice,
           absl::StrCat("-X POST -d '{\"path\":\"/Reports/Q3-Résumé.txt\",\"id\":\"", id, "\"}'"),
           "/api/files/versions/restore");
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(Curl("alice", *alice, "", "/api/files/content?path=" + file).body, "first draft");
  EXPECT_EQ(Curl("alice", *alice, "", "/api/files/versions?path=" + file).Json()["versions"].size(),
            1u);

  // Search: case- and accent-insensitive, by word prefix; nobody else finds it.
  Reply found = Curl("alice", *alice, "", "/api/files/search?q=resume%20q3");
  ASSERT_EQ(found.status, 200) << found.body;
  ASSERT_EQ(found.Json()["entries"].size(), 1u) << found.body;
  EXPECT_EQ(found.Json()["entries"][0]["path"], "/Reports/Q3-Résumé.txt");
  EXPECT_EQ(Curl("bob", *bob, "", "/api/files/search?q=resume").Json()["entries"].size(), 0u);
  EXPECT_EQ(Curl("", "", "", "/api/files/search?q=resume").status, 401);
  EXPECT_EQ(Curl("alice", *alice, "", "/api/files/search?q=%20-").status, 400);

  // Trash: the folder goes whole, the search no longer finds it, restore brings it back.
  ASSERT_EQ(Curl("alice", *alice, "-X DELETE", "/api/files?path=/Reports").status, 200);
  EXPECT_EQ(Curl("alice", *alice, "", "/api/files/search?q=resume").Json()["entries"].size(), 0u);
  Reply trash = Curl("alice", *alice, "", "/api/trash");
  ASSERT_EQ(trash.status, 200);
  ASSERT_EQ(trash.Json()["entries"].size(), 1u) << trash.body;
  EXPECT_EQ(trash.Json()["entries"][0]["path"], "/Reports");
  EXPECT_EQ(trash.Json()["entries"][0]["type"], "folder");
  std::string item = trash.Json()["entries"][0]["id"];
  EXPECT_EQ(Curl("bob", *bob, "", "/api/trash").Json()["entries"].size(), 0u);
  EXPECT_EQ(Curl("bob", *bob, "-X DELETE", "/api/trash/" + item).status, 404);
  EXPECT_EQ(Curl("", "", "", "/api/trash").status, 401);
  EXPECT_EQ(Curl("alice", "wrong", "-X DELETE", "/api/trash").status, 403);
  Reply back = Curl("alice", *alice, absl::StrCat("-X POST -d '{\"id\":\"", item, "\"}'"),
                    "/api/trash/restore");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(Curl("alice", *alice, "", "/api/files/content?path=" + file).body, "first draft");
  EXPECT_EQ(Curl("alice", *alice, "", "/api/files/search?q=resume").Json()["entries"].size(), 1u);

  // Purge frees the quota the trash held.
  ASSERT_EQ(Curl("alice", *alice, "-X DELETE", "/api/files?path=/Reports").status, 200);
  EXPECT_GT(Curl("alice", *alice, "", "/api/files?path=/").Json()["usage"]["used"], 0);
  EXPECT_EQ(Curl("alice", *alice, "-X DELETE", "/api/trash").status, 200);
  EXPECT_EQ(Curl("alice", *alice, "", "/api/files?path=/").Json()["usage"]["used"], 0);
}

TEST_F(DriveRecoveryTest, RcloneSeesNeitherTrashNorVersions) {
  auto csrf = cluster_->SignUp("rcloner");
  ASSERT_TRUE(csrf.ok());
  std::string src = dir_ + "/tree";
  Shell(absl::StrCat("mkdir -p '", src, "/a' && echo one > '", src, "/a/keep.txt' && echo x > '",
                     src, "/a/gone.txt'"));
  auto rclone = [&](const std::string& args, std::string* out) {
    return cluster_->Rclone("rcloner", args, out);
  };
  std::string out;
  ASSERT_EQ(rclone("copy '" + src + "' pc:tree", &out), 0) << out;
  // Replace one file (a new version) and delete the other (to the trash), over WebDAV.
  Shell(absl::StrCat("echo two-longer > '", src, "/a/keep.txt'"));
  ASSERT_EQ(rclone("copy '" + src + "' pc:tree", &out), 0) << out;
  ASSERT_EQ(rclone("deletefile pc:tree/a/gone.txt", &out), 0) << out;
  ASSERT_EQ(rclone("lsf -R pc:", &out), 0) << out;
  EXPECT_EQ(out, "tree/\ntree/a/\ntree/a/keep.txt\n");
  // Both exist, just not as files.
  EXPECT_EQ(Curl("rcloner", *csrf, "", "/api/trash").Json()["entries"].size(), 1u);
  EXPECT_EQ(Curl("rcloner", *csrf, "", "/api/files/versions?path=/tree/a/keep.txt")
                .Json()["versions"]
                .size(),
            1u);
  ASSERT_EQ(rclone("cat pc:tree/a/keep.txt", &out), 0);
  EXPECT_EQ(out, "two-longer\n");
}

}  // namespace
}  // namespace penncloud::testing
