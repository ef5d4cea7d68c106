// The drive's JSON API through the router: sessions and CSRF, streamed uploads and
// downloads, ranges, conditional requests, errors, and isolation between users.
#include "frontend/drive_api.h"

#include <deque>

#include "drive/content_type.h"
#include "frontend/drive_api_test_fixture.h"

namespace penncloud::frontend {
namespace {

// Hands out a body in fixed pieces, then optionally fails like a dropped connection.
class PieceReader : public BodyReader {
 public:
  PieceReader(std::deque<std::string> pieces, bool fail_at_end)
      : pieces_(std::move(pieces)), fail_at_end_(fail_at_end) {}
  absl::StatusOr<std::string> Read(size_t max_bytes) override {
    if (pieces_.empty()) {
      if (fail_at_end_) return absl::UnavailableError("connection reset");
      return std::string();
    }
    std::string p = std::move(pieces_.front());
    pieces_.pop_front();
    EXPECT_LE(p.size(), max_bytes);
    return p;
  }

 private:
  std::deque<std::string> pieces_;
  bool fail_at_end_;
};

class DriveApiTest : public DriveApiFixture {
 protected:
  DriveApiTest() {
    RegisterDriveRoutes(router_, ctx_);
    alice_ = SignUp("alice");
    bob_ = SignUp("bobby");
  }

  Response Put(const Login& who, const std::string& path, const std::string& data,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Call(who, "PUT", "/api/files/content?path=" + PercentEncode(path), data, headers);
  }

  std::string Get(const Login& who, const std::string& path, int expect = 200) {
    Response res = Call(who, "GET", "/api/files/content?path=" + PercentEncode(path));
    EXPECT_EQ(res.status, expect) << path << " " << res.body;
    return Body(res);
  }

  nlohmann::json List(const Login& who, const std::string& path) {
    Response res = Call(who, "GET", "/api/files?path=" + PercentEncode(path));
    EXPECT_EQ(res.status, 200) << res.body;
    return nlohmann::json::parse(res.body);
  }

  Login alice_, bob_;
};

TEST_F(DriveApiTest, NeedsSessionAndCsrf) {
  EXPECT_EQ(Call(Login{}, "GET", "/api/files?path=/").status, 401);
  Login no_csrf{alice_.cookie, ""};
  EXPECT_EQ(Put(no_csrf, "/a", "x").status, 403);
  EXPECT_EQ(Call(no_csrf, "POST", "/api/files/folder", R"({"path":"/d"})").status, 403);
  EXPECT_EQ(Call(no_csrf, "DELETE", "/api/files?path=/a").status, 403);
  EXPECT_EQ(List(alice_, "/")["entries"].size(), 0u);
}

TEST_F(DriveApiTest, UploadListDownload) {
  Response put = Put(alice_, "/hello.txt", "hello, drive");
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_FALSE(put.headers.Get("ETag").empty());
  EXPECT_EQ(Put(alice_, "/hello.txt", "hello again!").status, 200);
  auto list = List(alice_, "/");
  ASSERT_EQ(list["entries"].size(), 1u);
  EXPECT_EQ(list["entries"][0]["name"], "hello.txt");
  EXPECT_EQ(list["entries"][0]["type"], "file");
  EXPECT_EQ(list["entries"][0]["size"], 12);
  EXPECT_TRUE(list["entries"][0]["modified"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(list["usage"]["used"], 24);  // the replaced content is kept as a version

  Response get = Call(alice_, "GET", "/api/files/content?path=/hello.txt");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.content_length, 12u);
  EXPECT_EQ(get.headers.Get("Content-Type"), "text/plain");
  EXPECT_EQ(get.headers.Get("Accept-Ranges"), "bytes");
  EXPECT_EQ(get.headers.Get("Content-Disposition"),
            "attachment; filename=\"hello.txt\"; filename*=UTF-8''hello.txt");
  EXPECT_EQ(Body(get), "hello again!");
}

TEST_F(DriveApiTest, StreamedUploadAndCutOffUploadKeepsOldVersion) {
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4097) big[i] = static_cast<char>('a' + i % 26);
  std::deque<std::string> pieces;
  for (size_t i = 0; i < big.size(); i += 300000) pieces.push_back(big.substr(i, 300000));
  PieceReader reader(pieces, false);
  Response put = Call(alice_, "PUT", "/api/files/content?path=/big.bin", "", {}, &reader);
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(Get(alice_, "/big.bin"), big);

  PieceReader broken({"new", "content"}, true);
  Response cut = Call(alice_, "PUT", "/api/files/content?path=/big.bin", "", {}, &broken);
  EXPECT_EQ(cut.status, 400);
  EXPECT_EQ(Get(alice_, "/big.bin"), big);
}

TEST_F(DriveApiTest, RangesAndConditionalGets) {
  ASSERT_EQ(Put(alice_, "/r.bin", "0123456789").status, 201);
  auto range = [&](const std::string& value) {
    return Call(alice_, "GET", "/api/files/content?path=/r.bin", "", {{"Range", value}});
  };
  Response r = range("bytes=2-5");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.headers.Get("Content-Range"), "bytes 2-5/10");
  EXPECT_EQ(Body(r), "2345");
  r = range("bytes=7-");
  EXPECT_EQ(Body(r), "789");
  r = range("bytes=-3");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(Body(r), "789");
  r = range("bytes=8-100");
  EXPECT_EQ(Body(r), "89");
  r = range("bytes=10-");
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.headers.Get("Content-Range"), "bytes */10");
  // A last position past the end is clamped to the end (RFC 9110), even 2^64-1, which once
  // wrapped to an empty range with "bytes 0--1/10".
  r = range("bytes=0-18446744073709551615");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.headers.Get("Content-Range"), "bytes 0-9/10");
  EXPECT_EQ(Body(r), "0123456789");
  r = range("bytes=3-18446744073709551614");
  EXPECT_EQ(r.headers.Get("Content-Range"), "bytes 3-9/10");
  r = range("bytes=18446744073709551615-");
  EXPECT_EQ(r.status, 416);
  r = range("bytes=-18446744073709551615");
  EXPECT_EQ(Body(r), "0123456789");
  r = range("bytes=0-18446744073709551616");  // not a 64-bit number: the header is ignored
  EXPECT_EQ(r.status, 200);
  r = range("bytes=0-1,4-5");  // several ranges: served whole
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r), "0123456789");

  std::string etag(Call(alice_, "GET", "/api/files/content?path=/r.bin").headers.Get("ETag"));
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(
      Call(alice_, "GET", "/api/files/content?path=/r.bin", "", {{"If-None-Match", etag}}).status,
      304);
  EXPECT_EQ(
      Call(alice_, "GET", "/api/files/content?path=/r.bin", "", {{"If-Match", "\"nope\""}}).status,
      412);
  r = Call(alice_, "GET", "/api/files/content?path=/r.bin", "",
           {{"Range", "bytes=0-0"}, {"If-Range", "\"old\""}});
  EXPECT_EQ(r.status, 200);  // the client's part is of another version: send it all
  r = Call(alice_, "GET", "/api/files/content?path=/r.bin", "",
           {{"Range", "bytes=0-0"}, {"If-Range", etag}});
  EXPECT_EQ(r.status, 206);
}

TEST_F(DriveApiTest, ConditionalPuts) {
  Response first = Put(alice_, "/c", "v1");
  std::string etag(first.headers.Get("ETag"));
  EXPECT_EQ(Put(alice_, "/c", "v2", {{"If-None-Match", "*"}}).status, 412);
  EXPECT_EQ(Put(alice_, "/c", "v2", {{"If-Match", "\"other\""}}).status, 412);
  EXPECT_EQ(Put(alice_, "/c", "v2", {{"If-Match", etag}}).status, 200);
  EXPECT_EQ(Put(alice_, "/c", "v3", {{"If-Match", etag}}).status, 412);
  EXPECT_EQ(Get(alice_, "/c"), "v2");
}

TEST_F(DriveApiTest, FoldersMoveCopyDelete) {
  EXPECT_EQ(Call(alice_, "POST", "/api/files/folder", R"({"path":"/docs"})").status, 201);
  EXPECT_EQ(Call(alice_, "POST", "/api/files/folder", R"({"path":"/docs"})").status, 409);
  EXPECT_EQ(Call(alice_, "POST", "/api/files/folder", R"({"path":"/no/such"})").status, 404);
  EXPECT_EQ(Call(alice_, "POST", "/api/files/folder", R"({})").status, 400);
  ASSERT_EQ(Put(alice_, "/docs/a.txt", "AAA").status, 201);
  Response mv =
      Call(alice_, "POST", "/api/files/move", R"({"from":"/docs/a.txt","to":"/docs/b.txt"})");
  EXPECT_EQ(mv.status, 200) << mv.body;
  EXPECT_EQ(Call(alice_, "POST", "/api/files/copy", R"({"from":"/docs","to":"/docs2"})").status,
            200);
  EXPECT_EQ(Get(alice_, "/docs2/b.txt"), "AAA");
  EXPECT_EQ(Call(alice_, "POST", "/api/files/move", R"({"from":"/docs","to":"/docs2"})").status,
            409);
  EXPECT_EQ(
      Call(alice_, "POST", "/api/files/move", R"({"from":"/docs","to":"/docs2","overwrite":true})")
          .status,
      200);
  EXPECT_EQ(Call(alice_, "POST", "/api/files/move", R"({"from":"/docs2","to":"/docs2/in"})").status,
            409);
  EXPECT_EQ(Call(alice_, "DELETE", "/api/files?path=/docs2").status, 200);
  EXPECT_EQ(Call(alice_, "DELETE", "/api/files?path=/docs2").status, 404);
  EXPECT_EQ(List(alice_, "/")["entries"].size(), 0u);
}

TEST_F(DriveApiTest, TraversalAndBadNamesAre400) {
  ASSERT_EQ(Put(bob_, "/secret", "bob's").status, 201);
  for (const char* path : {"/../bobby/secret", "/..", "/a/%2e%2e/secret", "/x%00y"}) {
    std::string target = std::string("/api/files/content?path=") + path;
    EXPECT_EQ(Call(alice_, "GET", target).status, 400) << path;
    EXPECT_EQ(Call(alice_, "PUT", target, "x").status, 400) << path;
  }
  EXPECT_EQ(Call(alice_, "POST", "/api/files/folder", R"({"path":"/a\u0001b"})").status, 400);
}

TEST_F(DriveApiTest, UsersCannotReachEachOther) {
  ASSERT_EQ(Put(alice_, "/diary.txt", "alice's secret").status, 201);
  std::string etag(Call(alice_, "GET", "/api/files/content?path=/diary.txt").headers.Get("ETag"));
  EXPECT_EQ(List(bob_, "/")["entries"].size(), 0u);
  Get(bob_, "/diary.txt", 404);
  EXPECT_EQ(
      Call(bob_, "GET", "/api/files/content?path=/diary.txt", "", {{"If-Match", etag}}).status,
      404);
  EXPECT_EQ(Call(bob_, "DELETE", "/api/files?path=/diary.txt").status, 404);
  EXPECT_EQ(Call(bob_, "POST", "/api/files/move", R"({"from":"/diary.txt","to":"/x"})").status,
            404);
  // Bob's write to the same path makes his own file.
  ASSERT_EQ(Put(bob_, "/diary.txt", "bob").status, 201);
  EXPECT_EQ(Get(alice_, "/diary.txt"), "alice's secret");
  // A session cookie of Alice with Bob's CSRF token is refused.
  EXPECT_EQ(Put(Login{alice_.cookie, bob_.csrf}, "/diary.txt", "forged").status, 403);
  EXPECT_EQ(Get(alice_, "/diary.txt"), "alice's secret");
}

TEST_F(DriveApiTest, QuotaIs507) {
  ASSERT_TRUE(SharedDrive(ctx_)->SetQuota("alice", 5).ok());
  EXPECT_EQ(Put(alice_, "/big", "123456").status, 507);
  EXPECT_EQ(Put(alice_, "/ok", "12345").status, 201);
}

TEST_F(DriveApiTest, InlineOnlyForHarmlessTypes) {
  ASSERT_EQ(Put(alice_, "/page.html", "<script>alert(1)</script>").status, 201);
  ASSERT_EQ(Put(alice_, "/pic.png", "PNG").status, 201);
  Response html = Call(alice_, "GET", "/api/files/content?path=/page.html&inline=1");
  EXPECT_TRUE(html.headers.Get("Content-Disposition").starts_with("attachment"));
  EXPECT_EQ(html.headers.Get("Content-Type"), "application/octet-stream");
  EXPECT_EQ(html.headers.Get("Content-Security-Policy"), "sandbox");
  Response png = Call(alice_, "GET", "/api/files/content?path=/pic.png&inline=1");
  EXPECT_TRUE(png.headers.Get("Content-Disposition").starts_with("inline"));
  EXPECT_EQ(png.headers.Get("Content-Type"), "image/png");
}

// An uploader chooses the Content-Type: SVG with a parameter, or spelt in capitals, was
// once shown inline (and SVG runs script).
TEST_F(DriveApiTest, SvgIsNeverInlineWhateverItsParameters) {
  for (const char* type : {"image/svg+xml", "image/svg+xml; charset=utf-8", "IMAGE/SVG+XML",
                           " image/svg+xml ;q=1", "image/svg+xml;charset=\"utf-8\""}) {
    ASSERT_LT(Put(alice_, "/logo.svg", "<svg onload='alert(1)'/>", {{"Content-Type", type}}).status,
              300)
        << type;
    Response svg = Call(alice_, "GET", "/api/files/content?path=/logo.svg&inline=1");
    EXPECT_TRUE(svg.headers.Get("Content-Disposition").starts_with("attachment")) << type;
    EXPECT_EQ(svg.headers.Get("X-Content-Type-Options"), "nosniff");
  }
  EXPECT_FALSE(SafeInline("application/xhtml+xml"));
  EXPECT_TRUE(SafeInline("image/png"));
  EXPECT_TRUE(SafeInline("text/plain; charset=utf-8"));
}

// The uploader's Content-Type is stored with the file and sent back in headers and
// PROPFIND: it is checked and normalised before anything is stored.
TEST_F(DriveApiTest, UploadContentTypeIsCheckedAndNormalised) {
  ASSERT_EQ(Put(alice_, "/a.txt", "kept", {{"Content-Type", "text/plain"}}).status, 201);
  const std::string at_cap = "application/" + std::string(drive::kMaxContentTypeBytes - 12, 'x');
  for (const std::string& bad :
       {std::string("text/plain\x90"), std::string("text/plain\r\nX-Evil: 1"),
        std::string("text/plain\0", 11), std::string("text"), std::string("text/"),
        std::string("text/plain; charset"), std::string("text/plain; a=\"open"),
        std::string("text/plain, text/html"), at_cap + "x"}) {
    Response res = Put(alice_, "/a.txt", "replaced", {{"Content-Type", bad}});
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_NE(res.body.find("invalid Content-Type"), std::string::npos) << res.body;
  }
  EXPECT_EQ(Get(alice_, "/a.txt"), "kept");  // no refused upload replaced it
  EXPECT_EQ(List(alice_, "/")["entries"].size(), 1u);

  ASSERT_EQ(
      Put(alice_, "/b.txt", "b", {{"Content-Type", " Text/Plain ;Charset=\"UTF-8\" ; "}}).status,
      201);
  // (A download carries the stored type; inline, text is always sent as UTF-8.)
  Response b = Call(alice_, "GET", "/api/files/content?path=/b.txt");
  EXPECT_EQ(b.headers.Get("Content-Type"), "text/plain; charset=\"UTF-8\"");
  ASSERT_EQ(Put(alice_, "/c.bin", "c", {{"Content-Type", at_cap}}).status, 201);
  EXPECT_EQ(List(alice_, "/")["entries"].size(), 3u);
}

// Found by fuzz/drive_path_fuzz.cc: a suffix range of an empty file resolved to the empty
// range [0, 0), answered 206 with "Content-Range: bytes 0--1/0".
// One range at most: a list of ranges (which could ask for the same bytes many times
// over) is ignored and the file served whole, as RFC 9110 allows.
TEST_F(DriveApiTest, TrashListRestorePurgeEmpty) {
  ASSERT_EQ(Call(alice_, "POST", "/api/files/folder", R"({"path":"/docs"})").status, 201);
  ASSERT_EQ(Put(alice_, "/docs/a.txt", "AAA").status, 201);
  ASSERT_EQ(Put(alice_, "/b.txt", "BB").status, 201);
  ASSERT_EQ(Call(alice_, "DELETE", "/api/files?path=/docs").status, 200);
  ASSERT_EQ(Call(alice_, "DELETE", "/api/files?path=/b.txt").status, 200);
  EXPECT_EQ(List(alice_, "/")["entries"].size(), 0u);
  EXPECT_EQ(List(alice_, "/")["usage"]["used"], 5);  // the trash counts

  Response trash = Call(alice_, "GET", "/api/trash");
  ASSERT_EQ(trash.status, 200);
  auto entries = nlohmann::json::parse(trash.body)["entries"];
  ASSERT_EQ(entries.size(), 2u);
  std::string docs_id, b_id;
  for (const auto& e : entries) {
    EXPECT_TRUE(e["deleted"].get<std::string>().ends_with("Z"));
    (e["path"] == "/docs" ? docs_id : b_id) = e["id"];
    if (e["path"] == "/docs") {
      EXPECT_EQ(e["type"], "folder");
      EXPECT_EQ(e["size"], 3);
    }
  }
  Response restored =
      Call(alice_, "POST", "/api/trash/restore", nlohmann::json{{"id", docs_id}}.dump());
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(nlohmann::json::parse(restored.body)["path"], "/docs");
  EXPECT_EQ(Get(alice_, "/docs/a.txt"), "AAA");
  EXPECT_EQ(
      Call(alice_, "POST", "/api/trash/restore", nlohmann::json{{"id", docs_id}}.dump()).status,
      404);
  EXPECT_EQ(Call(alice_, "POST", "/api/trash/restore", R"({"id":"../x"})").status, 404);
  EXPECT_EQ(Call(alice_, "POST", "/api/trash/restore", R"({})").status, 400);

  // Bob sees none of it and can touch none of it.
  EXPECT_EQ(nlohmann::json::parse(Call(bob_, "GET", "/api/trash").body)["entries"].size(), 0u);
  EXPECT_EQ(Call(bob_, "DELETE", "/api/trash/" + b_id).status, 404);
  EXPECT_EQ(Call(bob_, "POST", "/api/trash/restore", nlohmann::json{{"id", b_id}}.dump()).status,
            404);
  EXPECT_EQ(Call(Login{}, "GET", "/api/trash").status, 401);
  EXPECT_EQ(Call(Login{alice_.cookie, ""}, "DELETE", "/api/trash").status, 403);

  EXPECT_EQ(Call(alice_, "DELETE", "/api/trash/" + b_id).status, 200);
  EXPECT_EQ(Call(alice_, "DELETE", "/api/trash/" + b_id).status, 404);
  EXPECT_EQ(List(alice_, "/")["usage"]["used"], 3);
  ASSERT_EQ(Call(alice_, "DELETE", "/api/files?path=/docs/a.txt").status, 200);
  Response emptied = Call(alice_, "DELETE", "/api/trash");
  ASSERT_EQ(emptied.status, 200);
  EXPECT_EQ(nlohmann::json::parse(emptied.body)["purged"], 1);
  EXPECT_EQ(List(alice_, "/")["usage"]["used"], 0);
}

TEST_F(DriveApiTest, VersionsListDownloadRestore) {
  ASSERT_EQ(Put(alice_, "/v.txt", "first").status, 201);
  ASSERT_EQ(Put(alice_, "/v.txt", "second").status, 200);
  Response listed = Call(alice_, "GET", "/api/files/versions?path=/v.txt");
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto versions = nlohmann::json::parse(listed.body)["versions"];
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0]["size"], 5);
  std::string id = versions[0]["id"];
  Response old = Call(alice_, "GET", "/api/files/content?path=/v.txt&version=" + id);
  ASSERT_EQ(old.status, 200);
  EXPECT_EQ(Body(old), "first");
  EXPECT_EQ(Call(bob_, "GET", "/api/files/content?path=/v.txt&version=" + id).status, 404);
  EXPECT_EQ(Call(bob_, "GET", "/api/files/versions?path=/v.txt").status, 404);
  EXPECT_EQ(Call(Login{}, "GET", "/api/files/versions?path=/v.txt").status, 401);
  EXPECT_EQ(Call(alice_, "GET", "/api/files/content?path=/v.txt&version=ffff").status, 404);

  Response restored = Call(alice_, "POST", "/api/files/versions/restore",
                           nlohmann::json{{"path", "/v.txt"}, {"id", id}}.dump());
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(nlohmann::json::parse(restored.body)["size"], 5);
  EXPECT_EQ(Get(alice_, "/v.txt"), "first");
  versions = nlohmann::json::parse(
      Call(alice_, "GET", "/api/files/versions?path=/v.txt").body)["versions"];
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0]["size"], 6);
  EXPECT_EQ(Call(bob_, "POST", "/api/files/versions/restore",
                 nlohmann::json{{"path", "/v.txt"}, {"id", versions[0]["id"]}}.dump())
                .status,
            404);
  EXPECT_EQ(List(alice_, "/")["usage"]["used"], 11);
}

TEST_F(DriveApiTest, NameSearch) {
  ASSERT_EQ(Call(alice_, "POST", "/api/files/folder", R"({"path":"/Trips"})").status, 201);
  ASSERT_EQ(Put(alice_, "/Trips/Zürich Photo.JPG", "jpg").status, 201);
  Response found = Call(alice_, "GET", "/api/files/search?q=" + PercentEncode("zurich pho"));
  ASSERT_EQ(found.status, 200) << found.body;
  auto entries = nlohmann::json::parse(found.body)["entries"];
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["path"], "/Trips/Zürich Photo.JPG");
  EXPECT_EQ(entries[0]["name"], "Zürich Photo.JPG");
  EXPECT_EQ(entries[0]["type"], "file");
  EXPECT_EQ(entries[0]["size"], 3);
  EXPECT_TRUE(entries[0]["modified"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(Call(alice_, "GET", "/api/files/search?q=").status, 400);
  EXPECT_EQ(Call(alice_, "GET", "/api/files/search?q=" + std::string(300, 'a')).status, 400);
  EXPECT_EQ(Call(alice_, "GET", "/api/files/search?q=trips&limit=0").status, 400);
  EXPECT_EQ(Call(alice_, "GET", "/api/files/search?q=trips&limit=x").status, 400);
  EXPECT_EQ(
      nlohmann::json::parse(Call(bob_, "GET", "/api/files/search?q=zurich").body)["entries"].size(),
      0u);
  EXPECT_EQ(Call(Login{}, "GET", "/api/files/search?q=zurich").status, 401);
}

TEST(ParseRangeTest, OneRangeIsServedAListIsIgnored) {
  bool unsatisfiable = true;
  auto one = ParseRange("bytes=0-1", 10, &unsatisfiable);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->end, 2u);
  for (const char* list : {"bytes=0-1,3-4", "bytes=0-9,0-9,0-9", "bytes=-1,"}) {
    EXPECT_FALSE(ParseRange(list, 10, &unsatisfiable).has_value()) << list;
    EXPECT_FALSE(unsatisfiable) << list;
  }
}

TEST(ParseRangeTest, SuffixOfAnEmptyFileIsServedWhole) {
  bool unsatisfiable = true;
  EXPECT_FALSE(ParseRange("bytes=-5", 0, &unsatisfiable).has_value());
  EXPECT_FALSE(unsatisfiable);
  auto last = ParseRange("bytes=-5", 3, &unsatisfiable);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->begin, 0u);
  EXPECT_EQ(last->end, 3u);
}

}  // namespace
}  // namespace penncloud::frontend
