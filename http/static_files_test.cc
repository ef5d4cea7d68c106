// The web app's files: what a frontend serves and what its cache keeps.
#include "http/static_files.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "http/json_response.h"

namespace penncloud::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  StaticFilesTest()
      : root_(fs::temp_directory_path() /
              ("static_files_test_" +
               std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(root_);
    fs::create_directories(root_ / "static");
    Write("index.html", "<h1>home</h1>");
    Write("admin.html", "<h1>console</h1>");
    fs::create_directories(root_ / "lib");
    RegisterStaticRoutes(
        router_,
        {.pages_root = root_.string(),
         .hidden_pages = {"admin"},
         .folders = {
             {.prefix = "/static", .root = root_ / "static"},
             {.prefix = "/lib", .root = root_ / "lib", .cache_control = "public, max-age=60"}}});
  }
  ~StaticFilesTest() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& content) {
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }

  Response Get(const std::string& target) {
    Request req;
    req.method = "GET";
    req.target = target;
    ParseTarget(req);
    return router_.Dispatch(req);
  }

  fs::path root_;
  Router router_;
};

// A hidden page (the frontend hides the console, which is the coordinator's after its
// admin check) is never served: a frontend reached with an encoded spelling ("/%61dmin"
// passes a prefix check on the raw path) once served it.
TEST_F(StaticFilesTest, NeverServesAHiddenPage) {
  EXPECT_EQ(Get("/admin").status, 404);
  EXPECT_EQ(Get("/%61dmin").status, 404);
  EXPECT_EQ(Get("/%61%64%6d%69%6e").status, 404);
  EXPECT_EQ(Get("/").status, 200);
}

// A miss is not remembered: a file that appears later is served, and made-up names
// cannot fill the cache.
TEST_F(StaticFilesTest, MissesAreNotCached) {
  EXPECT_EQ(Get("/static/later.js").status, 404);
  Write("static/later.js", "export {};");
  Response found = Get("/static/later.js");
  EXPECT_EQ(found.status, 200);
  EXPECT_EQ(found.body, "export {};");
  EXPECT_EQ(Get("/later").status, 404);
  Write("later.html", "<p>later</p>");
  EXPECT_EQ(Get("/later").status, 200);
}

// Each folder from its own root with its own caching; nothing outside a root.
TEST_F(StaticFilesTest, FoldersServeFromTheirRoots) {
  Write("lib/x.css", "lib{}");
  Response lib = Get("/lib/x.css");
  EXPECT_EQ(lib.status, 200);
  EXPECT_EQ(lib.body, "lib{}");
  EXPECT_EQ(lib.headers.Get("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(lib.headers.Get("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(Get("/static/x.css").status, 404);
  EXPECT_EQ(Get("/lib/../index.html").status, 404);
  EXPECT_EQ(Get("/lib/%2e%2e/index.html").status, 404);
  EXPECT_EQ(Get("/static/").status, 404);
}

TEST_F(StaticFilesTest, HitsAreCachedAndStayServedAfterTheFileGoes) {
  Write("static/app.css", "body{}");
  EXPECT_EQ(Get("/static/app.css").body, "body{}");
  fs::remove(root_ / "static" / "app.css");
  EXPECT_EQ(Get("/static/app.css").body, "body{}");
  EXPECT_EQ(Get("/static/app.css").headers.Get("X-Content-Type-Options"), "nosniff");
}

}  // namespace
}  // namespace penncloud::http
