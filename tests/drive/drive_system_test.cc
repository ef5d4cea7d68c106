// The drive on the real system: a KVS group, the coordinator and a frontend, driven by real
// clients (curl, litmus, rclone). Proves the claims end to end:
// - a big file goes up and down through the coordinator unchanged, with the frontend's
//   memory flat (64 MiB by default; PENNCLOUD_DRIVE_BIG_MB=1024 for the full 1 GiB run);
// - a frontend killed mid-upload leaves the previous version whole;
// - concurrent uploads to one path: one wins whole;
// - Ranges; WebDAV passes litmus; rclone copies a tree in and out unchanged;
// - users cannot reach each other's files.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kvs/client/connect.h"
#include "tests/drive/drive_fixture.h"

namespace penncloud::testing {
namespace {

class DriveSystemTest : public DriveFixture {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Start({})); }

  std::string Url(int port, const std::string& path) {
    return absl::StrCat("'http://127.0.0.1:", port, "/api/files/content?path=", path, "'");
  }
  std::string Auth(const std::string& user, const std::string& csrf) {
    return absl::StrCat(" -b ", dir_, "/", user, ".jar -H 'X-CSRF-Token: ", csrf, "' ");
  }
  // curl's HTTP status for an upload of `file` to `path`.
  std::string Upload(int port, const std::string& user, const std::string& csrf,
                     const std::string& file, const std::string& path) {
    std::string code;
    Shell(absl::StrCat("curl -s -o /dev/null -w '%{http_code}' --max-time 600 -T '", file, "'",
                       Auth(user, csrf), Url(port, path)),
          &code);
    return code;
  }
  std::string Download(int port, const std::string& user, const std::string& path,
                       const std::string& to, const std::string& extra = "") {
    std::string code;
    Shell(absl::StrCat("curl -s -o '", to, "' -w '%{http_code}' --max-time 600 ", extra, " -b ",
                       dir_, "/", user, ".jar ", Url(port, path)),
          &code);
    return code;
  }
};

TEST_F(DriveSystemTest, BigFileThroughCoordinatorWithFlatFrontendMemory) {
  uint64_t mb = 64;
  if (const char* env = std::getenv("PENNCLOUD_DRIVE_BIG_MB")) mb = std::strtoull(env, nullptr, 10);
  auto csrf = cluster_->SignUp("alice");
  ASSERT_TRUE(csrf.ok()) << csrf.status();
  std::string src = dir_ + "/big.bin", back = dir_ + "/big.back";
  WriteRandomFile(src, mb << 20, 7);

  std::atomic<bool> stop{false};
  std::atomic<long> peak_kib{0};
  std::thread sampler([&] {
    for (int i = 0; i < 20 * 3600 && !stop; ++i) {
      long rss = RssKib(cluster_->frontend_pid());
      if (rss > peak_kib) peak_kib = rss;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto t0 = std::chrono::steady_clock::now();
  std::string up = Upload(cluster_->http_port(), "alice", *csrf, src, "/big.bin");
  auto t1 = std::chrono::steady_clock::now();
  std::string down = Download(cluster_->http_port(), "alice", "/big.bin", back);
  auto t2 = std::chrono::steady_clock::now();
  stop = true;
  sampler.join();
  EXPECT_EQ(up, "201");
  EXPECT_EQ(down, "200");
  EXPECT_EQ(Sha256File(src), Sha256File(back));
  double up_s = std::chrono::duration<double>(t1 - t0).count();
  double down_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf(
      "drive big file: %llu MiB, upload %.1f MB/s, download %.1f MB/s, frontend peak RSS %ld MiB\n",
      static_cast<unsigned long long>(mb), mb * 1.048576 / up_s, mb * 1.048576 / down_s,
      peak_kib.load() / 1024);
  EXPECT_GT(peak_kib.load(), 0);
  EXPECT_LT(peak_kib.load(), 200 * 1024) << "frontend memory is not flat";

  // A range from the middle, across a chunk boundary.
  std::string part = dir_ + "/part.bin";
  EXPECT_EQ(Download(cluster_->http_port(), "alice", "/big.bin", part, "-r 1048000-1049999"),
            "206");
  std::string expect = dir_ + "/expect.bin";
  Shell(absl::StrCat("tail -c +1048001 '", src, "' | head -c 2000 > '", expect, "'"));
  EXPECT_EQ(Sha256File(part), Sha256File(expect));
}

TEST_F(DriveSystemTest, FrontendKilledMidUploadKeepsPreviousVersion) {
  auto csrf = cluster_->SignUp("alice");
  ASSERT_TRUE(csrf.ok()) << csrf.status();
  std::string v1 = dir_ + "/v1.bin", v2 = dir_ + "/v2.bin", back = dir_ + "/back.bin";
  WriteRandomFile(v1, 3 << 20, 1);
  WriteRandomFile(v2, 64 << 20, 2);
  ASSERT_EQ(Upload(cluster_->frontend_port(), "alice", *csrf, v1, "/doc.bin"), "201");
  auto store = kvs::Connect(cluster_->kvs_spec());
  ASSERT_TRUE(store.ok()) << store.status();
  kvs::ListOptions one{.after = "", .limit = 10, .with_values = false};
  // A slow upload straight to the frontend (16 s at 4 MB/s), then the frontend dies under
  // it once its pending record and first chunks are stored.
  std::string slow = absl::StrCat("curl -s -o /dev/null --max-time 60 --limit-rate 4M -T '", v2,
                                  "'", Auth("alice", *csrf),
                                  Url(cluster_->frontend_port(), "/doc.bin"), " >/dev/null 2>&1 &");
  Shell(slow);
  std::string first_chunk;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       std::chrono::steady_clock::now() < deadline;) {
    auto pending = (*store)->List("drive/alice/pending", one);
    if (pending.ok() && pending->cells.size() == 1) {
      std::string chunk = absl::StrCat("drive/alice/chunk/", pending->cells[0].column, "/1");
      if ((*store)->Get(chunk, "d").ok()) {
        first_chunk = absl::StrCat("drive/alice/chunk/", pending->cells[0].column, "/0");
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(first_chunk.empty()) << "the slow upload stored no chunks in 20 s";
  cluster_->KillFrontend();

  // The dead upload left its pending record and some chunks behind, unfinished.
  auto pending = (*store)->List("drive/alice/pending", one);
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->cells.size(), 1u);
  EXPECT_TRUE((*store)->Get(first_chunk, "d").ok());

  // The restarted frontend serves the previous version whole...
  setenv("PENNCLOUD_DRIVE_PENDING_TIMEOUT_MS", "1000", 1);
  ASSERT_TRUE(cluster_->StartFrontend().ok());
  unsetenv("PENNCLOUD_DRIVE_PENDING_TIMEOUT_MS");
  EXPECT_EQ(Download(cluster_->frontend_port(), "alice", "/doc.bin", back), "200");
  EXPECT_EQ(Sha256File(back), Sha256File(v1));

  // ...and once the upload is stale (1 s after its last write), one of the user's next
  // writes lets the collector remove it: write until it has.
  std::string small = dir_ + "/small.txt";
  Shell("echo small > '" + small + "'");
  bool collected = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
       !collected && std::chrono::steady_clock::now() < deadline;) {
    std::string code = Upload(cluster_->frontend_port(), "alice", *csrf, small, "/small.txt");
    ASSERT_TRUE(code == "201" || code == "200") << code;
    auto left = (*store)->List("drive/alice/pending", one);
    collected = left.ok() && left->cells.empty() &&
                absl::IsNotFound((*store)->Get(first_chunk, "d").status());
    if (!collected) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(collected) << "the abandoned upload's chunks were not collected";
  EXPECT_EQ(Download(cluster_->frontend_port(), "alice", "/doc.bin", back), "200");
  EXPECT_EQ(Sha256File(back), Sha256File(v1));
}

TEST_F(DriveSystemTest, ConcurrentUploadsToOnePathOneWinsWhole) {
  auto csrf = cluster_->SignUp("alice");
  ASSERT_TRUE(csrf.ok()) << csrf.status();
  constexpr int kWriters = 4;
  std::vector<std::string> files, sums;
  std::string cmd;
  for (int i = 0; i < kWriters; ++i) {
    files.push_back(absl::StrCat(dir_, "/w", i));
    WriteRandomFile(files.back(), 5 << 20, 100 + i);
    sums.push_back(Sha256File(files.back()));
    absl::StrAppend(&cmd, "curl -s -o /dev/null -w '%{http_code} ' --max-time 120 -T '",
                    files.back(), "'", Auth("alice", *csrf), Url(cluster_->http_port(), "/hot.bin"),
                    " & ");
  }
  std::string codes;
  Shell(cmd + "wait", &codes);
  // The race decides which upload wins, not whether one does.
  ASSERT_TRUE(absl::StrContains(codes, "200 ") || absl::StrContains(codes, "201 ")) << codes;
  std::string back = dir_ + "/hot.back";
  ASSERT_EQ(Download(cluster_->http_port(), "alice", "/hot.bin", back), "200") << codes;
  std::string got = Sha256File(back);
  int matches = 0;
  for (const auto& s : sums) matches += (s == got);
  EXPECT_EQ(matches, 1) << "the file is not one whole upload";
}

TEST_F(DriveSystemTest, UsersAreIsolatedOverHttpAndWebDav) {
  auto a = cluster_->SignUp("alice");
  auto b = cluster_->SignUp("bobby");
  ASSERT_TRUE(a.ok() && b.ok());
  std::string secret = dir_ + "/secret.txt", back = dir_ + "/stolen";
  Shell("echo 'alice only' > '" + secret + "'");
  ASSERT_EQ(Upload(cluster_->http_port(), "alice", *a, secret, "/secret.txt"), "201");
  int port = cluster_->http_port();
  for (const char* path : {"/secret.txt", "/../alice/secret.txt", "%2F..%2Falice%2Fsecret.txt"}) {
    std::string code = Download(port, "bobby", path, back);
    EXPECT_TRUE(code == "404" || code == "400") << path << " -> " << code;
  }
  std::string listing;
  Shell(absl::StrCat("curl -s -b ", dir_, "/bobby.jar 'http://127.0.0.1:", port,
                     "/api/files?path=/'"),
        &listing);
  EXPECT_EQ(listing.find("secret"), std::string::npos) << listing;
  // Bob's write to the same path is his own file.
  std::string bobs = dir_ + "/bobs.txt";
  Shell("echo 'bob wrote this' > '" + bobs + "'");
  ASSERT_EQ(Upload(port, "bobby", *b, bobs, "/secret.txt"), "201");
  std::string alice_copy = dir_ + "/alice_copy";
  EXPECT_EQ(Download(port, "alice", "/secret.txt", alice_copy), "200");
  EXPECT_EQ(Sha256File(alice_copy), Sha256File(secret));
  // WebDAV: Bob's password does not open Alice's tree, and his own tree lacks her file.
  std::string code;
  Shell(absl::StrCat("curl -s -o /dev/null -w '%{http_code}' -u alice:wrongpass1 "
                     "http://127.0.0.1:",
                     port, "/dav/secret.txt"),
        &code);
  EXPECT_EQ(code, "401");
  std::string propfind;
  Shell(absl::StrCat("curl -s -u bobby:password1 -X PROPFIND -H 'Depth: 1' http://127.0.0.1:", port,
                     "/dav/"),
        &propfind);
  EXPECT_NE(propfind.find("multistatus"), std::string::npos) << propfind;
  Shell(absl::StrCat("curl -s -u bobby:password1 http://127.0.0.1:", port, "/dav/secret.txt"),
        &code);
  EXPECT_EQ(code.find("alice only"), std::string::npos);
}

TEST_F(DriveSystemTest, LitmusPasses) {
  ASSERT_TRUE(cluster_->SignUp("litmus").ok());
  std::string out;
  int rc = Shell(absl::StrCat("cd '", dir_,
                              "' && TESTS='basic copymove props locks' timeout 300 litmus "
                              "http://127.0.0.1:",
                              cluster_->http_port(), "/dav/ litmus password1 2>&1"),
                 &out);
  EXPECT_EQ(rc, 0) << out;
  size_t summaries = 0;
  for (size_t at = out.find("0 failed"); at != std::string::npos;
       at = out.find("0 failed", at + 1)) {
    ++summaries;
  }
  EXPECT_EQ(summaries, 4u) << out;
}

TEST_F(DriveSystemTest, RcloneCopiesTreeInAndOutUnchanged) {
  ASSERT_TRUE(cluster_->SignUp("rcloner").ok());
  std::string src = dir_ + "/tree", back = dir_ + "/tree.back";
  Shell(absl::StrCat("mkdir -p '", src, "/a/b' '", src, "/empty' && echo hi > '", src,
                     "/a/x.txt' && printf 'caf\\xc3\\xa9' > '", src,
                     "/a/b/sp ace & \\xc3\\xbc.txt'"));
  WriteRandomFile(src + "/a/b/big.bin", (5 << 20) + 123, 9);
  std::string out;
  EXPECT_EQ(cluster_->Rclone("rcloner", "copy --create-empty-src-dirs '" + src + "' pc:tree", &out),
            0)
      << out;
  EXPECT_EQ(
      cluster_->Rclone("rcloner", "copy --create-empty-src-dirs pc:tree '" + back + "'", &out), 0)
      << out;
  EXPECT_EQ(Shell(absl::StrCat("diff -r '", src, "' '", back, "' 2>&1"), &out), 0) << out;
}

}  // namespace
}  // namespace penncloud::testing
