// Drive previews on the real system (3-replica KVS group, coordinator, one frontend that
// spawns the real thumbnailer), through the coordinator with curl:
// - a thumbnail of each format (JPEG, PNG, WebP, GIF) decodes to the asked size;
// - the second request for the same file and size is served from the store (the frontend's
//   drive_thumbnails_total counters: a cache_hit, no new `made`), a replaced file gets a
//   new thumbnail, If-None-Match gives 304;
// - 400 bad size, 404 missing, 415 not an image we thumbnail, 422 truncated or a bomb;
//   another account gets 404, no session 401;
// - inline=1 shows text as UTF-8 plain text and PDF as PDF, sandboxed; HTML and SVG with
//   script, and unknown types, are always attachments.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "drive/thumbnail_test_util.h"
#include "tests/drive/drive_cluster.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

using drive::ImageFormat;
using drive::testing::DeclaredPng;
using drive::testing::ImageSize;
using drive::testing::TestImage;

using Reply = CurlReply;

class PreviewSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { vips_init("preview_system_test"); }

  void SetUp() override {
    dir_ = TempDir("penncloud-preview");
    auto kvs = KvsGroup::Start();
    ASSERT_TRUE(kvs.ok()) << kvs.status();
    kvs_ = std::move(*kvs);
    http_port_ = FreePort();
    int grpc_port = FreePort(), frontend_port = FreePort();
    metrics_port_ = FreePort();
    auto coord = Process::Start(
        BinaryPath("coordinator"),
        {absl::StrCat("--http_port=", http_port_), absl::StrCat("--grpc_port=", grpc_port),
         absl::StrCat("--kvs=", kvs_->spec()), "--down_after_ms=3000"},
        dir_ + "/coordinator.log");
    ASSERT_TRUE(coord.ok()) << coord.status();
    coordinator_ = std::move(*coord);
    ASSERT_TRUE(WaitForPort(http_port_));
    // The frontend finds the thumbnailer beside its own binary (both in build/<dir>/bin).
    auto fe = Process::Start(
        BinaryPath("frontend"),
        {absl::StrCat("--port=", frontend_port), absl::StrCat("--kvs=", kvs_->spec()),
         absl::StrCat("--coordinator=127.0.0.1:", grpc_port), "--web_root=" + SourcePath("web"),
         "--io_threads=1", "--workers=8",
         absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_)},
        dir_ + "/frontend.log");
    ASSERT_TRUE(fe.ok()) << fe.status();
    frontend_ = std::move(*fe);
    ASSERT_TRUE(WaitForPort(frontend_port));
    bool routed = false;
    for (int i = 0; i < 100 && !routed; ++i) {
      routed = Curl("", "", "/api/me").status == 401;
      if (!routed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(routed) << "the coordinator never routed to the frontend";
    alice_csrf_ = SignUp("alice");
    ASSERT_FALSE(alice_csrf_.empty());
  }

  void TearDown() override {
    frontend_.Kill();
    coordinator_.Kill();
    kvs_.reset();
    RemoveTestDir(dir_);
  }

  std::string SignUp(const std::string& user) {
    std::string out;
    Shell(absl::StrCat(
              "curl -s --max-time 20 -c ", dir_, "/", user, ".jar -X POST -d '{\"username\":\"",
              user, "\",\"password\":\"password1\"}' http://127.0.0.1:", http_port_, "/api/signup"),
          &out);
    std::smatch m;
    return std::regex_search(out, m, std::regex("\"csrf\":\"([^\"]+)\"")) ? m[1].str() : "";
  }

  // curl through the coordinator as `user` ("" = no session); `args` go before the URL.
  Reply Curl(const std::string& user, const std::string& args, const std::string& target) {
    std::string auth = user.empty() ? "" : absl::StrCat("-b '", dir_, "/", user, ".jar' ");
    return RunCurl(http_port_, dir_, auth + args, target);
  }

  Reply Upload(const std::string& user, const std::string& csrf, const std::string& path,
               const std::string& bytes, const std::string& type = "") {
    std::string file = dir_ + "/upload.tmp";
    std::ofstream(file, std::ios::binary) << bytes;
    std::string args = absl::StrCat("-H 'X-CSRF-Token: ", csrf, "' -T '", file, "'");
    if (!type.empty()) absl::StrAppend(&args, " -H 'Content-Type: ", type, "'");
    return Curl(user, args, "/api/files/content?path=" + path);
  }

  Reply Thumbnail(const std::string& user, const std::string& path, const std::string& size,
                  const std::string& args = "") {
    std::string query = "/api/files/thumbnail?path=" + path;
    if (!size.empty()) query += "&size=" + size;
    return Curl(user, args, query);
  }

  // drive_thumbnails_total{outcome="..."} from the frontend's /metrics.
  int Outcome(const std::string& outcome) {
    std::string page;
    Shell(absl::StrCat("curl -s --max-time 10 http://127.0.0.1:", metrics_port_, "/metrics"),
          &page);
    std::smatch m;
    std::regex re("drive_thumbnails_total\\{outcome=\"" + outcome + "\"\\} ([0-9]+)");
    return std::regex_search(page, m, re) ? std::stoi(m[1].str()) : 0;
  }

  std::string dir_;
  std::unique_ptr<KvsGroup> kvs_;
  Process coordinator_, frontend_;
  int http_port_ = 0, metrics_port_ = 0;
  std::string alice_csrf_;
};

TEST_F(PreviewSystemTest, EachFormatIsThumbnailedOnceThenServedFromTheStore) {
  const std::pair<ImageFormat, const char*> files[] = {{ImageFormat::kJpeg, "/photo.jpg"},
                                                       {ImageFormat::kPng, "/shot.png"},
                                                       {ImageFormat::kWebp, "/pic.webp"},
                                                       {ImageFormat::kGif, "/anim.gif"}};
  for (const auto& [format, path] : files) {
    ASSERT_EQ(Upload("alice", alice_csrf_, path, TestImage(format, 600, 400)).status, 201);
    Reply r = Thumbnail("alice", path, "120");
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(r.Header("content-type"), "image/jpeg");
    EXPECT_EQ(r.Header("cache-control"), "private");
    EXPECT_FALSE(r.Header("etag").empty());
    EXPECT_EQ(ImageSize(r.body), std::make_pair(120, 80)) << path;
  }
  EXPECT_EQ(Outcome("made"), 4);
  EXPECT_EQ(Outcome("cache_hit"), 0);

  // The default size is 256; asked again, the thumbnail comes from the store.
  Reply first = Thumbnail("alice", "/photo.jpg", "");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(ImageSize(first.body), std::make_pair(256, 171));
  EXPECT_EQ(Outcome("made"), 5);
  Reply again = Thumbnail("alice", "/photo.jpg", "");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("etag"), first.Header("etag"));
  EXPECT_EQ(Outcome("made"), 5);
  EXPECT_EQ(Outcome("cache_hit"), 1);
  Reply unchanged =
      Thumbnail("alice", "/photo.jpg", "", "-H 'If-None-Match: " + first.Header("etag") + "'");
  EXPECT_EQ(unchanged.status, 304);

  // A replaced file is a new content version: a new thumbnail, not the cached one.
  ASSERT_EQ(
      Upload("alice", alice_csrf_, "/photo.jpg", TestImage(ImageFormat::kJpeg, 300, 600)).status,
      200);
  Reply replaced = Thumbnail("alice", "/photo.jpg", "");
  ASSERT_EQ(replaced.status, 200);
  EXPECT_EQ(ImageSize(replaced.body), std::make_pair(128, 256));
  EXPECT_NE(replaced.Header("etag"), first.Header("etag"));
  EXPECT_EQ(Outcome("made"), 6);
}

TEST_F(PreviewSystemTest, ErrorsAndOtherAccounts) {
  ASSERT_EQ(Upload("alice", alice_csrf_, "/a.png", TestImage(ImageFormat::kPng, 64, 64)).status,
            201);
  for (const char* size : {"31", "1025", "abc", "-5", "256x"}) {
    Reply r = Thumbnail("alice", "/a.png", size);
    EXPECT_EQ(r.status, 400) << size;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  }
  EXPECT_EQ(Thumbnail("alice", "/a.png", "32").status, 200);
  EXPECT_EQ(Thumbnail("alice", "/a.png", "1024").status, 200);
  EXPECT_EQ(Thumbnail("alice", "/missing.png", "").status, 404);

  ASSERT_EQ(Upload("alice", alice_csrf_, "/notes.txt", "just text").status, 201);
  Reply text = Thumbnail("alice", "/notes.txt", "");
  EXPECT_EQ(text.status, 415);
  EXPECT_NE(text.body.find("\"error\""), std::string::npos);
  ASSERT_EQ(Curl("alice", "-X POST -H 'X-CSRF-Token: " + alice_csrf_ + "' -d '{\"path\":\"/dir\"}'",
                 "/api/files/folder")
                .status,
            201);
  EXPECT_EQ(Thumbnail("alice", "/dir", "").status, 415);

  // Named and typed as images, but not decodable: 422 with the reason, frontend unharmed.
  std::string jpeg = TestImage(ImageFormat::kJpeg, 640, 480);
  ASSERT_EQ(Upload("alice", alice_csrf_, "/cut.jpg", jpeg.substr(0, jpeg.size() / 2)).status, 201);
  Reply cut = Thumbnail("alice", "/cut.jpg", "");
  EXPECT_EQ(cut.status, 422);
  EXPECT_NE(cut.body.find("cannot be decoded"), std::string::npos) << cut.body;
  ASSERT_EQ(Upload("alice", alice_csrf_, "/bomb.png", DeclaredPng(50000, 50000)).status, 201);
  Reply bomb = Thumbnail("alice", "/bomb.png", "");
  EXPECT_EQ(bomb.status, 422);
  EXPECT_NE(bomb.body.find("50000x50000"), std::string::npos) << bomb.body;
  ASSERT_EQ(Upload("alice", alice_csrf_, "/fake.gif", "GIF89a but not really").status, 201);
  EXPECT_EQ(Thumbnail("alice", "/fake.gif", "").status, 422);
  EXPECT_EQ(Thumbnail("alice", "/a.png", "").status, 200);  // still serving

  // Owner only: another account sees nothing at that path, no session is 401.
  ASSERT_FALSE(SignUp("bob").empty());
  EXPECT_EQ(Thumbnail("bob", "/a.png", "").status, 404);
  EXPECT_EQ(Thumbnail("", "/a.png", "").status, 401);
}

TEST_F(PreviewSystemTest, TextAndPdfOpenInlineAndScriptNeverDoes) {
  auto inline_get = [&](const std::string& path) {
    return Curl("alice", "", "/api/files/content?inline=1&path=" + path);
  };
  auto expect_sandboxed = [](const Reply& r) {
    EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(r.Header("content-security-policy"), "sandbox");
  };
  for (const char* path : {"/notes.txt", "/README.md", "/table.csv"}) {
    ASSERT_EQ(Upload("alice", alice_csrf_, path, "caf\xc3\xa9 <b>not html</b>").status, 201);
    Reply r = inline_get(path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.Header("content-type"), "text/plain; charset=utf-8") << path;
    EXPECT_TRUE(r.Header("content-disposition").starts_with("inline")) << path;
    expect_sandboxed(r);
  }
  // A text file that says it is UTF-7 is still shown as UTF-8.
  ASSERT_EQ(
      Upload("alice", alice_csrf_, "/seven.txt", "+ADw-script+AD4-", "text/plain; charset=utf-7")
          .status,
      201);
  EXPECT_EQ(inline_get("/seven.txt").Header("content-type"), "text/plain; charset=utf-8");

  ASSERT_EQ(Upload("alice", alice_csrf_, "/paper.pdf", "%PDF-1.4\n%%EOF\n").status, 201);
  Reply pdf = inline_get("/paper.pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.Header("content-type"), "application/pdf");
  EXPECT_TRUE(pdf.Header("content-disposition").starts_with("inline"));
  expect_sandboxed(pdf);

  // Script-bearing types are downloads whatever the request asks, typed by name or by the
  // uploader's Content-Type.
  const std::string html = "<html><script>document.title='owned'</script></html>";
  const std::string svg =
      "<svg xmlns='http://www.w3.org/2000/svg' onload='alert(document.cookie)'/>";
  const std::tuple<const char*, std::string, const char*> hostile[] = {
      {"/page.html", html, ""},
      {"/page.htm", html, "text/html; charset=utf-8"},
      {"/logo.svg", svg, ""},
      {"/logo2.svg", svg, "IMAGE/SVG+XML; charset=utf-8"},
      {"/x.xhtml", html, "application/xhtml+xml"},
      {"/blob.bin", html, ""}};
  for (const auto& [path, bytes, type] : hostile) {
    ASSERT_LT(Upload("alice", alice_csrf_, path, bytes, type).status, 300) << path;
    Reply r = inline_get(path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_TRUE(r.Header("content-disposition").starts_with("attachment")) << path;
    EXPECT_EQ(r.Header("content-type"), "application/octet-stream") << path;
    expect_sandboxed(r);
  }
}

}  // namespace
}  // namespace penncloud::testing
