// The sharing side of the drive API through the router (no sockets): zips of several
// selected items, thumbnails for share viewers with the same access as their downloads,
// what a recipient may do inside a write share, copies and moves between shares and one's
// own drive (and the moved items' shares going with them), shares that follow the owner's
// moves (API and WebDAV), and errors that name paths only as the viewer sees them.
#include "frontend/share_api.h"

#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "drive/zip.h"
#include "drive/zip_test_support.h"
#include "frontend/drive_api.h"
#include "frontend/drive_api_test_fixture.h"
#include "frontend/preview_api.h"
#include "frontend/webdav.h"

namespace penncloud::frontend {
namespace {

// A 1x1 PNG: small enough to spell out, real enough for the thumbnailer.
const std::string kPng(
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00"
    "\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63"
    "\xfc\xcf\xc0\x50\x0f\x00\x04\x85\x01\x80\x84\xa9\x8c\x21\x00\x00\x00\x00\x49\x45\x4e\x44"
    "\xae\x42\x60\x82",
    67);

class ShareApiTest : public DriveApiFixture {
 protected:
  ShareApiTest() {
    RegisterDriveRoutes(router_, ctx_);
    RegisterPreviewRoutes(router_, ctx_);
    RegisterShareRoutes(router_, ctx_);
    RegisterWebDavRoutes(router_, ctx_);
    alice_ = SignUp("alice");
    bob_ = SignUp("bobby");
    carol_ = SignUp("carol");
  }

  int Status(const Login& who, std::string method, std::string target, std::string body = "") {
    Response res = Call(who, std::move(method), std::move(target), std::move(body));
    return res.status;
  }

  void Put(const Login& who, const std::string& path, const std::string& data,
           const std::string& type = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!type.empty()) headers.push_back({"Content-Type", type});
    Response res =
        Call(who, "PUT", "/api/files/content?path=" + PercentEncode(path), data, headers);
    EXPECT_TRUE(res.status == 201 || res.status == 200) << path << ": " << res.body;
  }
  void Folder(const Login& who, const std::string& path) {
    nlohmann::json body = {{"path", path}};
    EXPECT_EQ(Status(who, "POST", "/api/files/folder", body.dump()), 201) << path;
  }
  nlohmann::json Json(const Login& who, const std::string& target) {
    Response res = Call(who, "GET", target);
    EXPECT_EQ(res.status, 200) << target << ": " << res.body;
    return nlohmann::json::parse(res.body, nullptr, false);
  }
  // Shares `path` of alice's: with an account (`user` set) or as a link; returns the answer.
  nlohmann::json Share(const std::string& path, const std::string& permission,
                       const std::string& user = "") {
    nlohmann::json body = {{"path", path}, {"permission", permission}};
    if (!user.empty()) body["user"] = user;
    Response res = Call(alice_, "POST", "/api/shares", body.dump());
    EXPECT_EQ(res.status, 201) << res.body;
    return nlohmann::json::parse(res.body, nullptr, false);
  }

  Login alice_, bob_, carol_;
};

TEST_F(ShareApiTest, SeveralSelectedItemsDownloadAsOneZip) {
  Folder(alice_, "/Docs");
  Folder(alice_, "/Old");
  Folder(alice_, "/Photos");
  Put(alice_, "/Docs/plan.txt", "new plan");
  Put(alice_, "/Old/plan.txt", "old plan");
  Put(alice_, "/Photos/a.jpg", "jpeg bytes");
  std::map<std::string, std::string> want = {{"plan.txt", "new plan"},
                                             {"plan (2).txt", "old plan"},
                                             {"Photos/", ""},
                                             {"Photos/a.jpg", "jpeg bytes"}};

  Response get =
      Call(alice_, "GET",
           "/api/files/zip?path=%2FDocs%2Fplan.txt&path=/Old/plan.txt&x=1&path=%2FPhotos");
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.headers.Get("Content-Type"), "application/zip");
  EXPECT_NE(get.headers.Get("Content-Disposition").find("download.zip"), std::string::npos);
  EXPECT_EQ(drive::Unzip(Body(get)), want);

  nlohmann::json body = {{"paths", {"/Docs/plan.txt", "/Old/plan.txt", "/Photos"}}};
  Response post = Call(alice_, "POST", "/api/files/zip", body.dump());
  ASSERT_EQ(post.status, 200) << post.body;
  EXPECT_EQ(drive::Unzip(Body(post)), want);

  // One path is the item's own archive, as before.
  Response one = Call(alice_, "GET", "/api/files/zip?path=/Photos");
  ASSERT_EQ(one.status, 200);
  EXPECT_NE(one.headers.Get("Content-Disposition").find("Photos.zip"), std::string::npos);

  // A recipient zips their own files beside what is shared with them.
  Share("/Photos", "read", "bobby");
  Put(bob_, "/mine.txt", "bob's");
  Response mixed = Call(
      bob_, "GET",
      "/api/files/zip?path=/mine.txt&path=" + PercentEncode("/Shared with me/alice/Photos/a.jpg"));
  ASSERT_EQ(mixed.status, 200) << mixed.body;
  EXPECT_EQ(drive::Unzip(Body(mixed)),
            (std::map<std::string, std::string>{{"mine.txt", "bob's"}, {"a.jpg", "jpeg bytes"}}));
}

TEST_F(ShareApiTest, ZipOfSeveralChecksEveryPath) {
  Folder(alice_, "/Docs");
  Put(alice_, "/Docs/plan.txt", "plan");
  Put(alice_, "/secret.txt", "secret");
  Share("/Docs", "read", "bobby");
  Put(bob_, "/mine.txt", "bob's");
  std::string shared = PercentEncode("/Shared with me/alice/Docs");

  // Another user's paths name nothing of theirs, and nothing outside a share is reachable.
  EXPECT_EQ(Status(bob_, "GET", "/api/files/zip?path=/mine.txt&path=/secret.txt"), 404);
  EXPECT_EQ(Status(carol_, "GET", "/api/files/zip?path=" + shared), 404);
  EXPECT_EQ(Status(bob_, "GET", "/api/files/zip?path=/mine.txt&path=" + shared + "%2F..%2F..%2F"),
            400);
  EXPECT_EQ(Status(bob_, "GET",
                   "/api/files/zip?path=/mine.txt&path=" +
                       PercentEncode("/Shared with me/alice/secret.txt")),
            404);
  EXPECT_EQ(Status(Login{}, "GET", "/api/files/zip?path=/mine.txt&path=/mine.txt"), 401);

  // Bounded, and the list must be a list of strings.
  nlohmann::json many = {{"paths", std::vector<std::string>(drive::kMaxZipItems + 1, "/mine.txt")}};
  EXPECT_EQ(Status(bob_, "POST", "/api/files/zip", many.dump()), 400);
  EXPECT_EQ(Status(bob_, "POST", "/api/files/zip", R"({"paths":[]})"), 400);
  EXPECT_EQ(Status(bob_, "POST", "/api/files/zip", R"({"paths":"/mine.txt"})"), 400);
  EXPECT_EQ(Status(bob_, "POST", "/api/files/zip", R"({"paths":["/mine.txt",7]})"), 400);
  EXPECT_EQ(Status(Login{bob_.cookie, ""}, "POST", "/api/files/zip", R"({"paths":["/mine.txt"]})"),
            403);  // CSRF
  // Twice the same item: two entries, told apart.
  Response twice = Call(bob_, "GET", "/api/files/zip?path=/mine.txt&path=/mine.txt");
  ASSERT_EQ(twice.status, 200);
  EXPECT_EQ(drive::Unzip(Body(twice)),
            (std::map<std::string, std::string>{{"mine.txt", "bob's"}, {"mine (2).txt", "bob's"}}));
}

TEST_F(ShareApiTest, ShareViewersGetThumbnailsOfWhatTheyMayDownload) {
  Folder(alice_, "/Trip");
  Put(alice_, "/Trip/dot.png", kPng, "image/png");
  Put(alice_, "/Trip/notes.txt", "notes");
  Put(alice_, "/secret.png", kPng, "image/png");
  auto link = Share("/Trip", "read");
  std::string token = link["token"];
  auto thumb = [&](const Login& who, const std::string& target) {
    Response res = Call(who, "GET", target);
    if (res.status == 200) {
      EXPECT_EQ(res.headers.Get("Content-Type"), "image/jpeg") << target;
    }
    return res.status;
  };

  EXPECT_EQ(thumb(Login{}, "/s/" + token + "/thumbnail?path=/dot.png&size=64"), 200);
  Response again = Call(Login{}, "GET", "/s/" + token + "/thumbnail?path=/dot.png&size=64");
  EXPECT_EQ(again.headers.Get("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(Body(again).substr(0, 2), "\xff\xd8");  // a JPEG
  EXPECT_EQ(thumb(Login{}, "/s/" + token + "/thumbnail?path=/notes.txt"), 415);
  EXPECT_EQ(thumb(Login{}, "/s/" + token + "/thumbnail?path=/nothing.png"), 404);
  EXPECT_EQ(thumb(Login{}, "/s/" + token + "/thumbnail?path=/../secret.png"), 400);
  EXPECT_EQ(thumb(Login{}, "/s/" + token + "/thumbnail?path=%2F..%2Fsecret.png"), 400);
  EXPECT_EQ(thumb(Login{}, "/s/" + token + "/thumbnail?path=/dot.png&size=5000"), 400);
  EXPECT_EQ(thumb(Login{}, "/s/nosuchtoken/thumbnail?path=/dot.png"), 404);
  // A file link: its one file, by "/" or by name; nothing else.
  std::string file_token = Share("/Trip/dot.png", "read")["token"];
  EXPECT_EQ(thumb(Login{}, "/s/" + file_token + "/thumbnail?path=/"), 200);
  EXPECT_EQ(thumb(Login{}, "/s/" + file_token + "/thumbnail?path=/dot.png"), 200);
  // Whatever else it names is refused as its download is (the file is no folder: 409).
  EXPECT_EQ(thumb(Login{}, "/s/" + file_token + "/thumbnail?path=/secret.png"),
            Status(Login{}, "GET", "/s/" + file_token + "/content?path=/secret.png"));
  EXPECT_EQ(thumb(Login{}, "/s/" + file_token + "/thumbnail?path=/secret.png"), 409);
  // Upload-only links show nothing; revoked links are gone.
  std::string drop = Share("/Trip", "upload")["token"];
  EXPECT_EQ(thumb(Login{}, "/s/" + drop + "/thumbnail?path=/dot.png"), 403);
  EXPECT_EQ(Status(alice_, "DELETE", "/api/shares/" + link["id"].get<std::string>()), 200);
  EXPECT_EQ(thumb(Login{}, "/s/" + token + "/thumbnail?path=/dot.png"), 404);

  // Shared with an account: that account, and nobody else, gets it.
  Share("/Trip", "read", "bobby");
  std::string shared = "/api/files/thumbnail?path=" + PercentEncode("/Shared with me/alice/Trip/");
  EXPECT_EQ(thumb(bob_, shared + "dot.png"), 200);
  EXPECT_EQ(thumb(carol_, shared + "dot.png"), 404);
  EXPECT_EQ(thumb(bob_, shared + "..%2F..%2Fsecret.png"), 400);
  EXPECT_EQ(
      thumb(bob_, "/api/files/thumbnail?path=" + PercentEncode("/Shared with me/alice/secret.png")),
      404);
  EXPECT_EQ(thumb(Login{}, shared + "dot.png"), 401);
}

TEST_F(ShareApiTest, WriteShareTakesNewFoldersMovesAndDeletes) {
  Folder(alice_, "/Team");
  Folder(alice_, "/Read");
  Put(alice_, "/Team/a.txt", "a");
  Put(alice_, "/Read/r.txt", "r");
  Share("/Team", "write", "bobby");
  Share("/Read", "read", "bobby");
  const std::string team = "/Shared with me/alice/Team";
  const std::string read = "/Shared with me/alice/Read";
  auto list = [&](const Login& who, const std::string& path) {
    return Json(who, "/api/files?path=" + PercentEncode(path));
  };
  auto move = [&](const Login& who, const std::string& from, const std::string& to) {
    return Status(who, "POST", "/api/files/move",
                  nlohmann::json{{"from", from}, {"to", to}}.dump());
  };
  EXPECT_EQ(list(bob_, team)["permission"], "write");
  EXPECT_EQ(list(bob_, read)["permission"], "read");

  Folder(bob_, team + "/New");
  EXPECT_EQ(list(alice_, "/Team/New")["entries"].size(), 0u);
  EXPECT_EQ(move(bob_, team + "/a.txt", team + "/New/b.txt"), 200);
  EXPECT_EQ(list(alice_, "/Team/New")["entries"][0]["name"], "b.txt");
  EXPECT_EQ(Status(bob_, "DELETE", "/api/files?path=" + PercentEncode(team + "/New/b.txt")), 200);
  EXPECT_EQ(list(alice_, "/Team/New")["entries"].size(), 0u);
  auto trash = Json(alice_, "/api/trash")["entries"];  // the owner's trash has it
  ASSERT_EQ(trash.size(), 1u);
  EXPECT_EQ(trash[0]["path"], "/Team/New/b.txt");

  // The shared folder itself stays the owner's; read shares take no changes.
  EXPECT_EQ(Status(bob_, "DELETE", "/api/files?path=" + PercentEncode(team)), 403);
  EXPECT_EQ(move(bob_, team, team + "/New/Team"), 403);
  EXPECT_EQ(move(bob_, team + "/New", read + "/New"), 403);
  EXPECT_EQ(Status(bob_, "DELETE", "/api/files?path=" + PercentEncode(read + "/r.txt")), 403);
  EXPECT_EQ(Status(bob_, "POST", "/api/files/folder", nlohmann::json{{"path", read + "/X"}}.dump()),
            403);
  EXPECT_EQ(move(bob_, read + "/r.txt", read + "/s.txt"), 403);
  // No one else can change it, nor can a path that climbs out.
  EXPECT_EQ(Status(carol_, "DELETE", "/api/files?path=" + PercentEncode(team + "/New")), 404);
  EXPECT_EQ(Status(bob_, "DELETE", "/api/files?path=" + PercentEncode(team + "/../Read")), 400);
  EXPECT_EQ(list(alice_, "/Team")["entries"].size(), 1u);  // New is still there
}

TEST_F(ShareApiTest, CopiesAndMovesCrossBetweenSharesAndOnesOwnDrive) {
  Folder(alice_, "/Team");
  Folder(alice_, "/Team/Plans");
  Put(alice_, "/Team/Plans/p.txt", "plan");
  Folder(alice_, "/Read");
  Put(alice_, "/Read/r.txt", "read me");
  Share("/Team", "write", "bobby");
  Share("/Read", "read", "bobby");
  Folder(carol_, "/Carols");
  ASSERT_EQ(Call(carol_, "POST", "/api/shares",
                 R"({"path":"/Carols","user":"bobby","permission":"write"})")
                .status,
            201);
  const std::string team = "/Shared with me/alice/Team";
  const std::string read = "/Shared with me/alice/Read";
  const std::string carols = "/Shared with me/carol/Carols";
  auto op = [&](const std::string& verb, const std::string& from, const std::string& to) {
    return Status(bob_, "POST", "/api/files/" + verb,
                  nlohmann::json{{"from", from}, {"to", to}}.dump());
  };
  auto content = [&](const Login& who, const std::string& path) {
    Response res = Call(who, "GET", "/api/files/content?path=" + PercentEncode(path));
    return res.status == 200 ? Body(res) : std::to_string(res.status);
  };
  auto used = [&](const Login& who) {
    return Json(who, "/api/files?path=/")["usage"]["used"].get<uint64_t>();
  };
  auto trashed = [&](const Login& who) {
    nlohmann::json trash = Json(who, "/api/trash");
    std::set<std::string> paths;
    for (const auto& e : trash["entries"]) paths.insert(e["path"].get<std::string>());
    return paths;
  };

  // Copies inside a write share are the owner's files, on the owner's quota.
  uint64_t alice_before = used(alice_);
  EXPECT_EQ(op("copy", team + "/Plans", team + "/Plans 2"), 200);
  EXPECT_EQ(content(alice_, "/Team/Plans 2/p.txt"), "plan");
  EXPECT_EQ(used(alice_), alice_before + 4);

  // Out of any share into one's own drive: a new file on the recipient's quota.
  EXPECT_EQ(used(bob_), 0u);
  EXPECT_EQ(op("copy", read + "/r.txt", "/r.txt"), 200);
  EXPECT_EQ(op("copy", read, "/Read copy"), 200);  // the shared item itself may be copied
  EXPECT_EQ(content(bob_, "/r.txt"), "read me");
  EXPECT_EQ(content(bob_, "/Read copy/r.txt"), "read me");
  EXPECT_EQ(used(bob_), 14u);
  // Never out of a read share by a move, nor into one.
  EXPECT_EQ(op("move", read + "/r.txt", "/r2.txt"), 403);
  EXPECT_EQ(op("copy", "/r.txt", read + "/r2.txt"), 403);
  EXPECT_EQ(content(alice_, "/Read/r.txt"), "read me");

  // Own drive -> write share: the copy lands, then the original goes to the mover's trash.
  Put(bob_, "/mine.txt", "mine");
  EXPECT_EQ(op("move", "/mine.txt", team + "/mine.txt"), 200);
  EXPECT_EQ(content(alice_, "/Team/mine.txt"), "mine");
  EXPECT_EQ(content(bob_, "/mine.txt"), "404");
  EXPECT_EQ(trashed(bob_), std::set<std::string>{"/mine.txt"});

  // Write share -> own drive, and between two owners' shares: into the owner's trash.
  EXPECT_EQ(op("move", team + "/Plans", "/Plans"), 200);
  EXPECT_EQ(content(bob_, "/Plans/p.txt"), "plan");
  EXPECT_EQ(content(alice_, "/Team/Plans/p.txt"), "404");
  EXPECT_EQ(op("move", team + "/mine.txt", carols + "/mine.txt"), 200);
  EXPECT_EQ(content(carol_, "/Carols/mine.txt"), "mine");
  EXPECT_EQ(trashed(alice_), (std::set<std::string>{"/Team/Plans", "/Team/mine.txt"}));

  // The shared item stays where its owner put it; a taken name needs "overwrite".
  EXPECT_EQ(op("move", team, "/Team"), 403);
  EXPECT_EQ(op("copy", "/r.txt", team), 403);
  EXPECT_EQ(op("copy", "/r.txt", team + "/Plans 2/p.txt"), 409);
  EXPECT_EQ(Status(bob_, "POST", "/api/files/copy",
                   nlohmann::json{
                       {"from", "/r.txt"}, {"to", team + "/Plans 2/p.txt"}, {"overwrite", true}}
                       .dump()),
            200);
  EXPECT_EQ(content(alice_, "/Team/Plans 2/p.txt"), "read me");

  // A copy past the recipient's quota is refused, and a failed move keeps its source.
  ASSERT_TRUE(SharedDrive(ctx_)->SetQuota("bobby", used(bob_) + 3).ok());
  EXPECT_EQ(op("copy", read + "/r.txt", "/r3.txt"), 507);
  EXPECT_EQ(op("move", team + "/Plans 2", "/Plans 2"), 507);
  EXPECT_EQ(content(alice_, "/Team/Plans 2/p.txt"), "read me");
  // Nor can anyone else reach into bob's shares.
  EXPECT_EQ(Status(carol_, "POST", "/api/files/copy",
                   nlohmann::json{{"from", team + "/Plans 2"}, {"to", "/x"}}.dump()),
            404);
}

// Items moved out of a share into the mover's drive (and back, over WebDAV) keep their own
// shares: the same link and the same accounts reach them, and the new owner lists them.
// (A crash at every write of such a move: drive/cross_move_test.cc.)
TEST_F(ShareApiTest, MovedItemsKeepTheirSharesWithTheirNewOwner) {
  Folder(alice_, "/Team");
  Folder(alice_, "/Team/Plans");
  Put(alice_, "/Team/Plans/p.txt", "plan");
  Share("/Team", "write", "bobby");
  std::string token = Share("/Team/Plans", "read")["token"];
  Share("/Team/Plans", "read", "carol");
  const std::string team = "/Shared with me/alice/Team";
  auto link_file = [&] {
    Response res = Call(Login{}, "GET", "/s/" + token + "/content?path=/p.txt");
    return res.status == 200 ? Body(res) : std::to_string(res.status);
  };
  auto carols = [&] {
    std::set<std::string> at;
    nlohmann::json incoming = Json(carol_, "/api/shares/incoming");
    for (const auto& s : incoming["shares"]) at.insert(s["path"].get<std::string>());
    return at;
  };
  auto shares_of = [&](const Login& who) { return Json(who, "/api/shares")["shares"].size(); };

  EXPECT_EQ(Status(bob_, "POST", "/api/files/move",
                   nlohmann::json{{"from", team + "/Plans"}, {"to", "/Plans"}}.dump()),
            200);
  Put(bob_, "/Plans/p.txt", "bob's plan");  // the link now serves bob's copy
  EXPECT_EQ(link_file(), "bob's plan");
  EXPECT_EQ(carols(), std::set<std::string>{"/Shared with me/bobby/Plans"});
  Response carols_copy =
      Call(carol_, "GET",
           "/api/files/content?path=" + PercentEncode("/Shared with me/bobby/Plans/p.txt"));
  EXPECT_EQ(Body(carols_copy), "bob's plan");
  EXPECT_EQ(shares_of(bob_), 2u);
  EXPECT_EQ(shares_of(alice_), 1u);  // the Team share only
  auto trash = Json(alice_, "/api/trash")["entries"];
  ASSERT_EQ(trash.size(), 1u);
  EXPECT_EQ(trash[0]["path"], "/Team/Plans");

  // Back into alice's share over WebDAV: the shares are alice's again.
  EXPECT_EQ(Call(Login{}, "MOVE", "/dav/Plans", "",
                 {{"Authorization", "Basic " + absl::Base64Escape("bobby:password1")},
                  {"Destination", "/dav/Shared%20with%20me/alice/Team/Plans"}})
                .status,
            201);
  EXPECT_EQ(link_file(), "bob's plan");
  EXPECT_EQ(carols(), std::set<std::string>{"/Shared with me/alice/Plans"});
  EXPECT_EQ(shares_of(bob_), 0u);
  EXPECT_EQ(shares_of(alice_), 3u);
}

TEST_F(ShareApiTest, SharesFollowTheOwnersMoves) {
  Folder(alice_, "/Work");
  Folder(alice_, "/Work/Team");
  Put(alice_, "/Work/Team/a.txt", "aaa");
  std::string token = Share("/Work/Team", "read")["token"];
  Share("/Work/Team", "write", "bobby");
  const std::string team = "/Shared with me/alice/Team";
  auto move = [&](const std::string& from, const std::string& to) {
    return Status(alice_, "POST", "/api/files/move",
                  nlohmann::json{{"from", from}, {"to", to}}.dump());
  };
  auto dav_move = [&](const std::string& from, const std::string& to) {
    return Call(Login{}, "MOVE", "/dav" + from, "",
                {{"Authorization", "Basic " + absl::Base64Escape("alice:password1")},
                 {"Destination", "/dav" + to}})
        .status;
  };
  auto link_file = [&] {
    Response res = Call(Login{}, "GET", "/s/" + token + "/content?path=/a.txt");
    return res.status == 200 ? Body(res) : std::to_string(res.status);
  };
  auto bobs_file = [&] {
    Response res = Call(bob_, "GET", "/api/files/content?path=" + PercentEncode(team + "/a.txt"));
    return res.status == 200 ? Body(res) : std::to_string(res.status);
  };
  auto my_paths = [&] {
    std::set<std::string> paths;
    nlohmann::json mine = Json(alice_, "/api/shares");
    for (const auto& s : mine["shares"]) paths.insert(s["path"].get<std::string>());
    return paths;
  };

  // The item renamed, then a folder above it moved (the drive page calls the same API).
  EXPECT_EQ(move("/Work/Team", "/Work/Crew"), 200);
  Folder(alice_, "/Archive");
  EXPECT_EQ(move("/Work", "/Archive/Work"), 200);
  EXPECT_EQ(link_file(), "aaa");
  EXPECT_EQ(bobs_file(), "aaa");
  EXPECT_EQ(my_paths(), std::set<std::string>{"/Archive/Work/Crew"});
  auto incoming = Json(bob_, "/api/shares/incoming")["shares"];
  ASSERT_EQ(incoming.size(), 1u);
  EXPECT_EQ(incoming[0]["path"], team);  // the name bob knows it by
  EXPECT_EQ(
      Json(bob_, "/api/files?path=" + PercentEncode("/Shared with me/alice"))["entries"][0]["name"],
      "Team");

  // WebDAV moves are followed too; what takes the old place is not shared.
  EXPECT_EQ(dav_move("/Archive", "/Old"), 201);
  Folder(alice_, "/Archive");
  Folder(alice_, "/Archive/Work");
  Folder(alice_, "/Archive/Work/Crew");
  Put(alice_, "/Archive/Work/Crew/a.txt", "not this one");
  EXPECT_EQ(link_file(), "aaa");
  EXPECT_EQ(bobs_file(), "aaa");
  EXPECT_EQ(my_paths(), std::set<std::string>{"/Old/Work/Crew"});

  // In the trash the shares serve nothing; restored, they work again.
  EXPECT_EQ(Status(alice_, "DELETE", "/api/files?path=/Old"), 200);
  EXPECT_EQ(link_file(), "404");
  EXPECT_EQ(bobs_file(), "404");
  EXPECT_EQ(Call(Login{}, "GET", "/s/" + token + "/info").status, 404);
  auto trash = Json(alice_, "/api/trash")["entries"];
  ASSERT_EQ(trash.size(), 1u);
  EXPECT_EQ(
      Status(alice_, "POST", "/api/trash/restore", nlohmann::json{{"id", trash[0]["id"]}}.dump()),
      200);
  EXPECT_EQ(link_file(), "aaa");
  EXPECT_EQ(bobs_file(), "aaa");
}

TEST_F(ShareApiTest, ErrorsNameOnlyWhatTheViewerSees) {
  Folder(alice_, "/Private Clients");
  Folder(alice_, "/Private Clients/Acme");
  Put(alice_, "/Private Clients/Acme/a.txt", "a");
  std::string token = Share("/Private Clients/Acme", "read")["token"];
  Share("/Private Clients/Acme", "write", "bobby");
  const std::string acme = "/Shared with me/alice/Acme";
  auto error = [](Response res) -> std::string {
    auto body = nlohmann::json::parse(res.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"].get<std::string>() : res.body;
  };
  auto bob = [&](std::string method, const std::string& target, std::string body = "") {
    Response res = Call(bob_, std::move(method), target, std::move(body));
    EXPECT_GE(res.status, 400) << target;
    return error(std::move(res));
  };
  auto visitor = [&](const std::string& route, const std::string& path) {
    Response res = Call(Login{}, "GET", "/s/" + token + route + "?path=" + PercentEncode(path));
    EXPECT_EQ(res.status, 404) << route;
    return error(std::move(res));
  };
  Put(bob_, "/mine.txt", "m");
  std::vector<std::string> seen = {
      bob("GET", "/api/files/content?path=" + PercentEncode(acme + "/gone.txt")),
      bob("GET", "/api/files?path=" + PercentEncode(acme + "/gone")),
      bob("GET", "/api/files/thumbnail?path=" + PercentEncode(acme + "/gone.png")),
      bob("GET", "/api/files/zip?path=" + PercentEncode(acme + "/gone")),
      bob("DELETE", "/api/files?path=" + PercentEncode(acme + "/gone.txt")),
      bob("POST", "/api/files/folder", nlohmann::json{{"path", acme + "/gone/new"}}.dump()),
      bob("POST", "/api/files/move",
          nlohmann::json{{"from", acme + "/gone.txt"}, {"to", acme + "/b.txt"}}.dump()),
      visitor("/files", "/gone"),
      visitor("/content", "/gone.txt"),
      visitor("/zip", "/gone"),
      visitor("/thumbnail", "/gone.png"),
      bob("POST", "/api/files/copy",
          nlohmann::json{{"from", acme + "/gone.txt"}, {"to", "/b.txt"}}.dump()),
      bob("POST", "/api/files/move",
          nlohmann::json{{"from", "/mine.txt"}, {"to", acme + "/gone/mine.txt"}}.dump()),
  };
  for (const std::string& message : seen) {
    EXPECT_EQ(message.find("Private"), std::string::npos) << message;
    EXPECT_NE(message.find("gone"), std::string::npos) << message;
  }
  EXPECT_EQ(seen[0], "no such file: " + acme + "/gone.txt");
  EXPECT_EQ(seen[7], "no such file or folder: /gone");
  EXPECT_EQ(seen[8], "no such file: /gone.txt");
  EXPECT_EQ(seen[11], "no such file or folder: " + acme + "/gone.txt");

  // WebDAV says the same, with the recipient's Basic login.
  auto dav = [&](std::string method, const std::string& path,
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.push_back({"Authorization", "Basic " + absl::Base64Escape("bobby:password1")});
    return Call(Login{}, std::move(method), "/dav" + PercentEncode(path), "", headers);
  };
  std::vector<std::pair<int, std::string>> dav_seen;
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", acme + "/gone.txt"},
           {"DELETE", acme + "/gone.txt"},
           {"PROPFIND", acme + "/gone"},
           {"MKCOL", acme + "/gone/new"},
       }) {
    Response res = dav(method, path);
    dav_seen.push_back({res.status, error(std::move(res))});
  }
  for (const auto& [status, message] : dav_seen) {
    EXPECT_EQ(message.find("Private"), std::string::npos) << message;
    EXPECT_NE(message.find(acme + "/gone"), std::string::npos) << status << " " << message;
  }
  EXPECT_EQ(dav_seen[0].first, 404);
  EXPECT_EQ(dav_seen[3].first, 409);
  // The root shows "Shared with me"; folders in a share carry no quota of the owner's.
  Response root = dav("PROPFIND", "/", {{"Depth", "1"}});
  EXPECT_EQ(root.status, 207);
  EXPECT_NE(root.body.find("<D:href>/dav/Shared%20with%20me/</D:href>"), std::string::npos)
      << root.body;
  EXPECT_NE(root.body.find("quota-used-bytes"), std::string::npos);
  Response shared = dav("PROPFIND", acme, {{"Depth", "1"}});
  EXPECT_EQ(shared.status, 207);
  EXPECT_NE(shared.body.find("/dav/Shared%20with%20me/alice/Acme/a.txt"), std::string::npos)
      << shared.body;
  EXPECT_EQ(shared.body.find("quota"), std::string::npos) << shared.body;
  EXPECT_EQ(shared.body.find("Private"), std::string::npos) << shared.body;
}

}  // namespace
}  // namespace penncloud::frontend
