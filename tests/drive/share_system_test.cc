// Sharing on the real system (KVS group, coordinator, frontend), driven with curl through
// the coordinator, from outside: the owner, another account, a third account and anonymous
// clients. Every way in (listing, download, zip, upload) is tried with a revoked link, an
// expired link, a missing or wrong password and a path that climbs out of the share, and
// each gets nothing (401/403/404); guessing is answered 429.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/drive/drive_fixture.h"

namespace penncloud::testing {
namespace {

class ShareSystemTest : public DriveFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Start({"alice", "bob", "carol"}));
    ASSERT_EQ(As("alice", "POST", "/api/files/folder", R"({"path":"/Trip"})").status, 201);
    ASSERT_EQ(As("alice", "POST", "/api/files/folder", R"({"path":"/Trip/Day 1"})").status, 201);
    ASSERT_EQ(Put("alice", "/Trip/notes.txt", "hello trip").status, 201);
    ASSERT_EQ(Put("alice", "/Trip/Day 1/photo.jpg", std::string(300000, 'p')).status, 201);
    ASSERT_EQ(Put("alice", "/secret.txt", "not shared").status, 201);
  }

  // The entries of the zip at `path`, checked whole by Python's zipfile, as Python prints a
  // sorted list of (name, size); "" if it is not a sound zip.
  static std::string ZipListing(const std::string& path) {
    std::string listing;
    int rc = Shell(absl::StrCat("python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
                                "assert z.testzip() is None; "
                                "print(sorted((i.filename, i.file_size) for i in z.infolist()))' ",
                                path),
                   &listing);
    return rc == 0 ? listing : "";
  }
  // A link to `path` made by alice with extra JSON members; returns {id, token}.
  std::pair<std::string, std::string> Link(const std::string& path, const std::string& extra = "") {
    Reply r =
        As("alice", "POST", "/api/shares", absl::StrCat(R"({"path":")", path, R"(")", extra, "}"));
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = r.Json();
    if (!j.is_object()) return {};
    EXPECT_EQ(j["url"], "/s/" + j["token"].get<std::string>());
    return {j["id"], j["token"]};
  }
  // Every read of link `token`'s content, with extra curl args; their statuses.
  std::vector<int> ReadAll(const std::string& token, const std::string& args = "") {
    return {Curl(args, "/s/" + token + "/files?path=/").status,
            Curl(args, "/s/" + token + "/content?path=/notes.txt").status,
            Curl(args, "/s/" + token + "/zip").status,
            Curl(args, "/s/" + token + "/content?path=/Day%201/photo.jpg").status};
  }
};

TEST_F(ShareSystemTest, PublicLinkListsDownloadsZipsAndRevokes) {
  auto [id, token] = Link("/Trip");
  EXPECT_GE(token.size(), 43u);  // 256 bits

  Reply page = Curl("-i", "/s/" + token);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Content-Security-Policy: default-src 'self'"), std::string::npos);
  EXPECT_NE(page.body.find("Referrer-Policy: no-referrer"), std::string::npos);

  Reply list = Curl("", "/s/" + token + "/files?path=/");
  ASSERT_EQ(list.status, 200) << list.body;
  auto entries = list.Json()["entries"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["name"], "Day 1");
  EXPECT_EQ(entries[1]["name"], "notes.txt");
  EXPECT_EQ(Curl("", "/s/" + token + "/files?path=/Day%201").Json()["entries"][0]["name"],
            "photo.jpg");

  Reply file = Curl("", "/s/" + token + "/content?path=/notes.txt");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "hello trip");

  std::string zip = dir_ + "/trip.zip";
  ASSERT_EQ(Curl("", "/s/" + token + "/zip", zip).status, 200);
  EXPECT_EQ(ZipListing(zip),
            "[('Trip/', 0), ('Trip/Day 1/', 0), ('Trip/Day 1/photo.jpg', 300000), "
            "('Trip/notes.txt', 10)]\n");

  // Nothing outside the shared folder, however the path is spelled.
  for (const char* path : {"/../secret.txt", "/..%2Fsecret.txt", "/%2E%2E/secret.txt",
                           "/Day%201/../../secret.txt", "/./notes.txt"}) {
    Reply r = Curl("", "/s/" + token + "/content?path=" + path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.body.find("not shared"), std::string::npos) << path;
    EXPECT_EQ(Curl("", "/s/" + token + "/zip?path=" + path).status, 400) << path;
  }
  EXPECT_EQ(Curl("", "/s/" + token + "/upload?name=x.txt").status, 405);  // PUT only
  EXPECT_EQ(Curl("-T /dev/null", "/s/" + token + "/upload?name=x.txt").status, 403);

  Reply mine = As("alice", "GET", "/api/shares");
  ASSERT_EQ(mine.status, 200);
  auto shares = mine.Json()["shares"];
  ASSERT_EQ(shares.size(), 1u);
  EXPECT_EQ(shares[0]["downloads"], 2);  // the file and the zip
  EXPECT_EQ(shares[0]["kind"], "link");
  // Others cannot see or revoke it.
  EXPECT_TRUE(As("bob", "GET", "/api/shares").Json()["shares"].empty());
  EXPECT_EQ(As("bob", "DELETE", "/api/shares/" + id).status, 404);
  EXPECT_EQ(Curl("", "/s/" + token + "/files?path=/").status, 200);

  ASSERT_EQ(As("alice", "DELETE", "/api/shares/" + id).status, 200);
  EXPECT_EQ(ReadAll(token), (std::vector<int>{404, 404, 404, 404}));
  EXPECT_EQ(Curl("", "/s/" + token + "/info").status, 404);
}

TEST_F(ShareSystemTest, PasswordLinkNeedsThePasswordEverywhere) {
  auto [id, token] = Link("/Trip", R"(,"password":"open sesame")");
  EXPECT_EQ(ReadAll(token), (std::vector<int>{401, 401, 401, 401}));
  EXPECT_EQ(ReadAll(token, "-H 'X-Share-Password: open sesam'"),
            (std::vector<int>{401, 401, 401, 401}));
  EXPECT_EQ(ReadAll(token, "-H 'X-Share-Password: open sesame'"),
            (std::vector<int>{200, 200, 200, 200}));
  auto info = Curl("", "/s/" + token + "/info").Json();
  EXPECT_EQ(info["password"], true);
  EXPECT_EQ(info["unlocked"], false);
  EXPECT_FALSE(info.contains("name"));  // nothing about the files before the password

  // The page's form: a grant cookie for this link only.
  std::string jar = dir_ + "/anon.jar";
  Shell(absl::StrCat("printf '%s' '{\"password\":\"open sesame\"}' > ", dir_, "/pw.json"));
  EXPECT_EQ(Curl(absl::StrCat("-c ", jar, " -H 'Content-Type: application/json' --data-binary @",
                              dir_, "/pw.json"),
                 "/s/" + token + "/unlock")
                .status,
            200);
  EXPECT_EQ(ReadAll(token, "-b " + jar), (std::vector<int>{200, 200, 200, 200}));
  // A forged grant does nothing.
  EXPECT_EQ(
      Curl(absl::StrCat("-b 'pc_link_", id, "=99999999999999.00'"), "/s/" + token + "/files?path=/")
          .status,
      401);

  // Guessing: after 10 wrong passwords the link answers 429, even to the right one.
  int limited = 0;
  for (int i = 0; i < 12; ++i) {
    int status =
        Curl(absl::StrCat("-H 'X-Share-Password: guess", i, "'"), "/s/" + token + "/files?path=/")
            .status;
    EXPECT_TRUE(status == 401 || status == 429) << status;
    limited += status == 429;
  }
  EXPECT_GE(limited, 2);
  EXPECT_EQ(Curl("-H 'X-Share-Password: open sesame'", "/s/" + token + "/files?path=/").status,
            429);
}

TEST_F(ShareSystemTest, ExpiredLinkGivesNothing) {
  int64_t soon = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() +
                 1500;
  auto [id, token] = Link("/Trip", absl::StrCat(R"(,"expires":)", soon));
  EXPECT_EQ(Curl("", "/s/" + token + "/files?path=/").status, 200);
  // Wait (bounded) until the clock passes the expiry.
  for (int i = 0; i < 100 && Curl("", "/s/" + token + "/info").status == 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(ReadAll(token), (std::vector<int>{404, 404, 404, 404}));
  EXPECT_EQ(As("alice", "POST", "/api/shares", R"({"path":"/Trip","expires":"2001-01-01"})").status,
            400);
}

TEST_F(ShareSystemTest, FileDropTakesUploadsAndShowsNothing) {
  auto [id, token] = Link("/Trip", R"(,"permission":"upload")");
  std::string file = dir_ + "/drop.txt";
  Shell("printf 'dropped' > " + file);
  Reply first = Curl("-T " + file, "/s/" + token + "/upload?name=notes.txt");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Json()["name"], "notes (2).txt");  // never replaces alice's file
  EXPECT_EQ(Curl("-T " + file, "/s/" + token + "/upload?name=..").status, 400);
  EXPECT_EQ(Curl("-T " + file, "/s/" + token + "/upload?name=a%2Fb").status, 400);
  EXPECT_EQ(ReadAll(token), (std::vector<int>{403, 403, 403, 403}));
  Reply got = As("alice", "GET", "/api/files/content?path=/Trip/notes%20(2).txt");
  EXPECT_EQ(got.body, "dropped");
  EXPECT_EQ(As("alice", "GET", "/api/files/content?path=/Trip/notes.txt").body, "hello trip");
}

TEST_F(ShareSystemTest, ShareWithAnotherAccount) {
  EXPECT_EQ(As("alice", "POST", "/api/shares", R"({"path":"/Trip","user":"nobody"})").status, 404);
  Reply made =
      As("alice", "POST", "/api/shares", R"({"path":"/Trip","user":"bob","permission":"read"})");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string id = made.Json()["id"];

  auto incoming = As("bob", "GET", "/api/shares/incoming").Json()["shares"];
  ASSERT_EQ(incoming.size(), 1u);
  EXPECT_EQ(incoming[0]["path"], "/Shared with me/alice/Trip");
  EXPECT_TRUE(As("carol", "GET", "/api/shares/incoming").Json()["shares"].empty());
  // The owner sees who has access.
  auto mine = As("alice", "GET", "/api/shares").Json()["shares"];
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["user"], "bob");

  EXPECT_EQ(As("bob", "GET", "/api/files?path=/Shared%20with%20me").Json()["entries"][0]["name"],
            "alice");
  Reply list = As("bob", "GET", "/api/files?path=/Shared%20with%20me/alice/Trip");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Json()["entries"].size(), 2u);
  Reply file = As("bob", "GET", "/api/files/content?path=/Shared%20with%20me/alice/Trip/notes.txt");
  EXPECT_EQ(file.body, "hello trip");
  EXPECT_EQ(As("bob", "GET", "/api/files/zip?path=/Shared%20with%20me/alice/Trip").status, 200);
  // Read-only: bob cannot write; nothing climbs out.
  EXPECT_EQ(Put("bob", "/Shared with me/alice/Trip/new.txt", "x").status, 403);
  EXPECT_EQ(As("bob", "GET", "/api/files/content?path=/Shared%20with%20me/alice/Trip/../secret.txt")
                .status,
            400);
  // carol and anonymous get nothing.
  EXPECT_EQ(As("carol", "GET", "/api/files?path=/Shared%20with%20me/alice/Trip").status, 404);
  EXPECT_EQ(As("carol", "GET", "/api/files/zip?path=/Shared%20with%20me/alice/Trip").status, 404);
  EXPECT_EQ(Curl("", "/api/files/zip?path=/Shared%20with%20me/alice/Trip").status, 401);

  ASSERT_EQ(As("alice", "DELETE", "/api/shares/" + id).status, 200);
  EXPECT_EQ(As("bob", "GET", "/api/files?path=/Shared%20with%20me/alice/Trip").status, 404);
  EXPECT_EQ(
      As("bob", "GET", "/api/files/content?path=/Shared%20with%20me/alice/Trip/notes.txt").status,
      404);
  EXPECT_EQ(As("bob", "GET", "/api/files/zip?path=/Shared%20with%20me/alice/Trip").status, 404);

  // Read-write: bob adds a file that lands in alice's folder.
  ASSERT_EQ(
      As("alice", "POST", "/api/shares", R"({"path":"/Trip","user":"bob","permission":"write"})")
          .status,
      201);
  EXPECT_EQ(Put("bob", "/Shared with me/alice/Trip/from-bob.txt", "hi alice").status, 201);
  EXPECT_EQ(As("alice", "GET", "/api/files/content?path=/Trip/from-bob.txt").body, "hi alice");
}

// The same shares through WebDAV, with rclone as the client: the recipient lists and
// downloads them, uploads into a write share, is refused in a read one, and moves and
// copies between a share and their own drive.
TEST_F(ShareSystemTest, WebDavSeesSharesWithAnAccount) {
  ASSERT_EQ(As("alice", "POST", "/api/files/folder", R"({"path":"/Team"})").status, 201);
  ASSERT_EQ(Put("alice", "/Team/plan.txt", "the plan").status, 201);
  for (const char* share : {R"({"path":"/Trip","user":"bob","permission":"read"})",
                            R"({"path":"/Team","user":"bob","permission":"write"})"}) {
    ASSERT_EQ(As("alice", "POST", "/api/shares", share).status, 201);
  }
  auto rclone = [&](const std::string& args, std::string* out) {
    return cluster_->Rclone("bob", args, out);
  };
  std::string out;
  ASSERT_EQ(rclone("lsf pc:", &out), 0) << out;
  EXPECT_EQ(out, "Shared with me/\n");
  ASSERT_EQ(rclone("lsf -R 'pc:Shared with me' | LC_ALL=C sort", &out), 0) << out;
  EXPECT_EQ(out,
            "alice/\nalice/Team/\nalice/Team/plan.txt\nalice/Trip/\nalice/Trip/Day 1/\n"
            "alice/Trip/Day 1/photo.jpg\nalice/Trip/notes.txt\n");

  // Download a shared folder whole; upload into the write share.
  std::string back = dir_ + "/trip.back";
  ASSERT_EQ(rclone(absl::StrCat("copy 'pc:Shared with me/alice/Trip' '", back, "'"), &out), 0)
      << out;
  std::string notes, photo_size;
  Shell(absl::StrCat("cat '", back, "/notes.txt'"), &notes);
  Shell(absl::StrCat("stat -c %s '", back, "/Day 1/photo.jpg'"), &photo_size);
  EXPECT_EQ(notes, "hello trip");
  EXPECT_EQ(photo_size, "300000\n");
  Shell(absl::StrCat("printf 'from bob' > '", dir_, "/up.txt'"));
  ASSERT_EQ(rclone(absl::StrCat("copyto '", dir_, "/up.txt' 'pc:Shared with me/alice/Team/up.txt'"),
                   &out),
            0)
      << out;
  EXPECT_EQ(As("alice", "GET", "/api/files/content?path=/Team/up.txt").body, "from bob");

  // Refusals: a read share takes nothing, the shared item stays the owner's, "Shared with
  // me" itself takes no new entries.
  auto dav = [&](const std::string& args, const std::string& path) {
    return Curl("-u bob:password1 " + args, "/dav" + Encode(path)).status;
  };
  std::string lock =
      "-X LOCK -H 'Content-Type: application/xml' --data '<?xml version=\"1.0\"?><D:lockinfo "
      "xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/>"
      "</D:locktype></D:lockinfo>'";
  EXPECT_EQ(dav("-T '" + dir_ + "/up.txt'", "/Shared with me/alice/Trip/up.txt"), 403);
  EXPECT_EQ(dav("-X MKCOL", "/Shared with me/alice/Trip/New"), 403);
  EXPECT_EQ(dav("-X DELETE", "/Shared with me/alice/Trip/notes.txt"), 403);
  EXPECT_EQ(dav(lock, "/Shared with me/alice/Trip/notes.txt"), 403);
  EXPECT_EQ(dav("-X DELETE", "/Shared with me/alice/Team"), 403);
  EXPECT_EQ(dav("-X MOVE -H 'Destination: /dav/Team'", "/Shared with me/alice/Team"), 403);
  EXPECT_EQ(dav("-X MKCOL", "/Shared with me/bob"), 403);
  EXPECT_EQ(dav("-X PROPFIND -H 'Depth: 1'", "/Shared with me/carol"), 404);
  EXPECT_EQ(
      Curl("-u carol:password1 -X PROPFIND -H 'Depth: 1'", "/dav/Shared%20with%20me/alice/Trip/")
          .status,
      404);
  Reply gone = Curl("-u bob:password1", "/dav/Shared%20with%20me/alice/Trip/gone.txt");
  EXPECT_EQ(gone.status, 404);
  EXPECT_NE(gone.body.find("/Shared with me/alice/Trip/gone.txt"), std::string::npos) << gone.body;
  EXPECT_EQ(dav(lock, "/Shared with me/alice/Team/plan.txt"), 200);

  // Moves and copies between the shares and bob's own drive.
  EXPECT_EQ(dav("-X COPY -H 'Destination: /dav/notes.txt'", "/Shared with me/alice/Trip/notes.txt"),
            201);
  EXPECT_EQ(dav("-X MOVE -H 'Destination: /dav/up.txt'", "/Shared with me/alice/Team/up.txt"), 201);
  EXPECT_EQ(
      dav("-X MOVE -H 'Destination: /dav/Shared%20with%20me/alice/Team/notes.txt'", "/notes.txt"),
      201);
  EXPECT_EQ(Curl("-u bob:password1", "/dav/up.txt").body, "from bob");
  EXPECT_EQ(As("alice", "GET", "/api/files/content?path=/Team/notes.txt").body, "hello trip");
  EXPECT_EQ(As("alice", "GET", "/api/files/content?path=/Team/up.txt").status, 404);
  EXPECT_EQ(As("alice", "GET", "/api/trash").Json()["entries"][0]["path"], "/Team/up.txt");
  EXPECT_EQ(As("bob", "GET", "/api/files?path=/").Json()["entries"].size(), 1u);  // up.txt
}

TEST_F(ShareSystemTest, TokenGuessingIsRateLimited) {
  auto [id, token] = Link("/Trip");
  int limited = 0;
  for (int i = 0; i < 35; ++i) {
    int status =
        Curl("", absl::StrCat("/s/guess", i, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/files")).status;
    EXPECT_TRUE(status == 404 || status == 429) << status;
    limited += status == 429;
  }
  EXPECT_GE(limited, 4);
  // The guesser's address is shut out of real links too, for the window.
  EXPECT_EQ(Curl("", "/s/" + token + "/files?path=/").status, 429);
}

TEST_F(ShareSystemTest, OwnerZipsOwnFolder) {
  std::string zip = dir_ + "/own.zip";
  Reply r = Curl(absl::StrCat("-b ", dir_, "/alice.jar"), "/api/files/zip?path=/Trip", zip);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(ZipListing(zip), "");
  EXPECT_EQ(Curl(absl::StrCat("-b ", dir_, "/bob.jar"), "/api/files/zip?path=/Trip").status, 404);
}

TEST_F(ShareSystemTest, SeveralItemsZipTogetherWithSharedOnes) {
  ASSERT_EQ(
      As("alice", "POST", "/api/shares", R"({"path":"/Trip","user":"bob","permission":"read"})")
          .status,
      201);
  ASSERT_EQ(Put("bob", "/notes.txt", "bob's notes").status, 201);
  std::string zip = dir_ + "/several.zip";
  Reply r = Curl(absl::StrCat("-b ", dir_, "/bob.jar"),
                 "/api/files/zip?path=/notes.txt&path=/Shared%20with%20me/alice/Trip/notes.txt"
                 "&path=/Shared%20with%20me/alice/Trip/Day%201",
                 zip);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.Header("content-disposition").find("download.zip"), std::string::npos);
  EXPECT_EQ(ZipListing(zip),
            "[('Day 1/', 0), ('Day 1/photo.jpg', 300000), ('notes (2).txt', 10), "
            "('notes.txt', 11)]\n");
  // Every path is checked: one of alice's own paths spoils the lot; carol gets nothing.
  EXPECT_EQ(Curl(absl::StrCat("-b ", dir_, "/bob.jar"),
                 "/api/files/zip?path=/notes.txt&path=/Shared%20with%20me/alice/secret.txt")
                .status,
            404);
  EXPECT_EQ(Curl(absl::StrCat("-b ", dir_, "/carol.jar"),
                 "/api/files/zip?path=/Shared%20with%20me/alice/Trip&path=/Shared%20with%20me/"
                 "alice/Trip/notes.txt")
                .status,
            404);
}

TEST_F(ShareSystemTest, WriteShareTakesFoldersMovesAndDeletesFromOutside) {
  ASSERT_EQ(
      As("alice", "POST", "/api/shares", R"({"path":"/Trip","user":"bob","permission":"write"})")
          .status,
      201);
  const std::string trip = "/Shared with me/alice/Trip";
  EXPECT_EQ(As("bob", "POST", "/api/files/folder", R"({"path":")" + trip + R"(/Day 2"})").status,
            201);
  EXPECT_EQ(As("bob", "POST", "/api/files/move",
               R"({"from":")" + trip + R"(/notes.txt","to":")" + trip + R"(/Day 2/notes.txt"})")
                .status,
            200);
  EXPECT_EQ(As("alice", "GET", "/api/files/content?path=/Trip/Day%202/notes.txt").body,
            "hello trip");
  EXPECT_EQ(As("bob", "DELETE", "/api/files?path=/Shared%20with%20me/alice/Trip/Day%201").status,
            200);
  EXPECT_EQ(As("alice", "GET", "/api/files?path=/Trip/Day%201").status, 404);
  EXPECT_EQ(As("alice", "GET", "/api/trash").Json()["entries"][0]["path"], "/Trip/Day 1");
  // The shared folder itself, and anyone else, are refused.
  EXPECT_EQ(As("bob", "DELETE", "/api/files?path=/Shared%20with%20me/alice/Trip").status, 403);
  EXPECT_EQ(As("carol", "DELETE", "/api/files?path=/Shared%20with%20me/alice/Trip/Day%202").status,
            404);
  EXPECT_EQ(Curl("-X DELETE", "/api/files?path=/Shared%20with%20me/alice/Trip/Day%202").status,
            401);
  EXPECT_EQ(As("alice", "GET", "/api/files?path=/Trip").Json()["entries"].size(), 1u);
}

TEST_F(ShareSystemTest, SharesFollowTheOwnersMovesAndHideTheOwnersPaths) {
  auto [id, token] = Link("/Trip/Day 1");
  ASSERT_EQ(As("alice", "POST", "/api/shares", R"({"path":"/Trip/Day 1","user":"bob"})").status,
            201);
  const std::string day = "/Shared%20with%20me/alice/Day%201";
  // The shared folder renamed, then the folder above it moved into another.
  ASSERT_EQ(As("alice", "POST", "/api/files/move", R"({"from":"/Trip/Day 1","to":"/Trip/Monday"})")
                .status,
            200);
  ASSERT_EQ(As("alice", "POST", "/api/files/folder", R"({"path":"/Past"})").status, 201);
  ASSERT_EQ(
      As("alice", "POST", "/api/files/move", R"({"from":"/Trip","to":"/Past/Trip 2024"})").status,
      200);
  EXPECT_EQ(Curl("", "/s/" + token + "/content?path=/photo.jpg").body.size(), 300000u);
  EXPECT_EQ(As("bob", "GET", "/api/files/content?path=" + day + "/photo.jpg").body.size(), 300000u);
  EXPECT_EQ(As("bob", "GET", "/api/shares/incoming").Json()["shares"][0]["name"], "Day 1");
  EXPECT_EQ(As("alice", "GET", "/api/shares").Json()["shares"][0]["path"],
            "/Past/Trip 2024/Monday");
  // A missing file is named as the viewer knows the share, never by the owner's folders.
  Reply missing = As("bob", "GET", "/api/files/content?path=" + day + "/gone.jpg");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Json()["error"], "no such file: /Shared with me/alice/Day 1/gone.jpg");
  Reply link_missing = Curl("", "/s/" + token + "/content?path=/gone.jpg");
  EXPECT_EQ(link_missing.status, 404);
  EXPECT_EQ(link_missing.Json()["error"], "no such file: /gone.jpg");
  // In the trash it serves nothing.
  ASSERT_EQ(As("alice", "DELETE", "/api/files?path=/Past").status, 200);
  EXPECT_EQ(Curl("", "/s/" + token + "/files?path=/").status, 404);
  EXPECT_EQ(As("bob", "GET", "/api/files?path=" + day).status, 404);
}

TEST_F(ShareSystemTest, LinkViewersGetThumbnails) {
  // A real image: a 1x1 PNG.
  const std::string png(
      "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00"
      "\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63"
      "\xfc\xcf\xc0\x50\x0f\x00\x04\x85\x01\x80\x84\xa9\x8c\x21\x00\x00\x00\x00\x49\x45\x4e\x44"
      "\xae\x42\x60\x82",
      67);
  std::string file = dir_ + "/dot.png";
  std::ofstream(file, std::ios::binary) << png;
  ASSERT_EQ(Curl(absl::StrCat("-T '", file, "' -H 'Content-Type: image/png' -b ", dir_,
                              "/alice.jar -H 'X-CSRF-Token: ", csrf_["alice"], "'"),
                 "/api/files/content?path=/Trip/dot.png")
                .status,
            201);
  auto [id, token] = Link("/Trip");
  Reply thumb = Curl("", "/s/" + token + "/thumbnail?path=/dot.png&size=64");
  ASSERT_EQ(thumb.status, 200) << thumb.body;
  EXPECT_EQ(thumb.Header("content-type"), "image/jpeg");
  EXPECT_EQ(thumb.body.substr(0, 2), "\xff\xd8");
  EXPECT_EQ(Curl("", "/s/" + token + "/thumbnail?path=/../secret.txt").status, 400);
  ASSERT_EQ(As("alice", "DELETE", "/api/shares/" + id).status, 200);
  EXPECT_EQ(Curl("", "/s/" + token + "/thumbnail?path=/dot.png").status, 404);
}

}  // namespace
}  // namespace penncloud::testing
