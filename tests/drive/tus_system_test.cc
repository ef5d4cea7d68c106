// tus resumable uploads on the real system: a 3-replica KVS group, the coordinator and two
// frontends, driven through the coordinator by curl and by tus-js-client under node.
// - Every error case answers as tus and DESIGN.md say: 401 without a session, 412 without
//   Tus-Resumable, 400 for bad metadata, 413 over the size limit or the quota, 409 for a
//   wrong offset, 415 for a wrong Content-Type, 404 for another user's upload and after
//   termination.
// - An upload in pieces lands like a PUT: same bytes, an older version kept, found by name.
// - Each extension with curl: bytes with the creation, Upload-Checksum (460 on a mismatch,
//   the offset unmoved), Upload-Expires on every answer about an unfinished upload.
// - The frontend serving a 40 MiB upload is SIGKILLed mid-upload; the client resumes at the
//   durable offset through the coordinator on the other frontend and finishes; the download
//   is byte-exact, and the bytes sent twice stay within one chunk.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tests/drive/drive_cluster.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

constexpr uint64_t kBigBytes = 40 << 20;
// Over the coordinator's 1 MiB buffer, so a PATCH streams through it: a PATCH cut by the
// kill reaches the client as an error (a buffered one the coordinator would replay itself).
constexpr uint64_t kClientChunk = 2 << 20;

using Reply = CurlReply;

// The system, shared by the tests of this file (the kill test runs last).
struct Cluster {
  std::string dir;
  std::unique_ptr<KvsGroup> kvs;
  Process coordinator;
  Process frontends[2];
  int frontend_ports[2] = {0, 0};
  int http_port = 0, grpc_port = 0;
};
Cluster* cluster = nullptr;

absl::Status StartCluster() {
  cluster = new Cluster();
  Cluster& c = *cluster;
  c.dir = TempDir("penncloud-tus");
  auto kvs = KvsGroup::Start();
  if (!kvs.ok()) return kvs.status();
  c.kvs = std::move(*kvs);
  c.http_port = FreePort();
  c.grpc_port = FreePort();
  auto coord = Process::Start(
      BinaryPath("coordinator"),
      {absl::StrCat("--http_port=", c.http_port), absl::StrCat("--grpc_port=", c.grpc_port),
       absl::StrCat("--kvs=", c.kvs->spec()), "--down_after_ms=3000"},
      c.dir + "/coordinator.log");
  if (!coord.ok()) return coord.status();
  c.coordinator = std::move(*coord);
  if (!WaitForPort(c.http_port)) return absl::UnavailableError("coordinator did not start");
  for (int i = 0; i < 2; ++i) {
    c.frontend_ports[i] = FreePort();
    auto fe = Process::Start(
        BinaryPath("frontend"),
        {absl::StrCat("--port=", c.frontend_ports[i]), absl::StrCat("--kvs=", c.kvs->spec()),
         absl::StrCat("--coordinator=127.0.0.1:", c.grpc_port), "--web_root=" + SourcePath("web"),
         "--io_threads=1", "--workers=16"},
        absl::StrCat(c.dir, "/frontend", i, ".log"));
    if (!fe.ok()) return fe.status();
    c.frontends[i] = std::move(*fe);
    if (!WaitForPort(c.frontend_ports[i])) return absl::UnavailableError("frontend did not start");
  }
  // The coordinator routes once heartbeats arrived.
  for (int i = 0; i < 200; ++i) {
    std::string code;
    Shell(absl::StrCat("curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:",
                       c.http_port, "/api/me"),
          &code);
    if (code == "401") return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError("coordinator never routed to a frontend");
}

std::string Base64(const std::string& s) { return absl::Base64Escape(s); }

class TusSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (auto s = StartCluster(); !s.ok()) {
      FAIL() << s;
    }
  }
  static void TearDownTestSuite() {
    if (cluster != nullptr) RemoveTestDir(cluster->dir);
    delete cluster;
    cluster = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster, nullptr); }

  // Signs up `user` through the coordinator; returns the CSRF token (cookie jar in dir).
  std::string SignUp(const std::string& user) {
    std::string out;
    Shell(absl::StrCat("curl -s --max-time 20 -c ", cluster->dir, "/", user,
                       ".jar -X POST -d '{\"username\":\"", user,
                       "\",\"password\":\"password1\"}' http://127.0.0.1:", cluster->http_port,
                       "/api/signup"),
          &out);
    auto j = nlohmann::json::parse(out, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("csrf")) << out;
    return j.is_object() && j.contains("csrf") ? j["csrf"].get<std::string>() : "";
  }

  // curl through the coordinator; `user` "" sends no cookie, `csrf` "" no token.
  Reply Curl(const std::string& user, const std::string& csrf, const std::string& args,
             const std::string& target) {
    std::string auth;
    if (!user.empty()) auth += absl::StrCat("-b '", cluster->dir, "/", user, ".jar' ");
    if (!csrf.empty()) auth += absl::StrCat("-H 'X-CSRF-Token: ", csrf, "' ");
    return RunCurl(cluster->http_port, cluster->dir, auth + args, target);
  }

  // POST /api/uploads/ with the tus headers; returns the reply (Location on 201).
  Reply Create(const std::string& user, const std::string& csrf, uint64_t length,
               const std::string& path) {
    return Curl(user, csrf,
                absl::StrCat("-X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: ", length,
                             "' -H 'Upload-Metadata: path ", Base64(path), "'"),
                "/api/uploads/");
  }
  Reply Patch(const std::string& user, const std::string& csrf, const std::string& location,
              uint64_t offset, const std::string& bytes) {
    std::string file = cluster->dir + "/patch.tmp";
    std::ofstream(file, std::ios::binary) << bytes;
    return Curl(user, csrf,
                absl::StrCat("-X PATCH -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: ", offset,
                             "' -H 'Content-Type: application/offset+octet-stream' "
                             "--data-binary @'",
                             file, "'"),
                location);
  }
  // "<algorithm> <base64 digest>" of `bytes`, digested by coreutils' sha1sum or sha256sum.
  std::string ChecksumHeader(const std::string& algorithm, const std::string& bytes) {
    std::string file = cluster->dir + "/digest.tmp";
    std::ofstream(file, std::ios::binary) << bytes;
    std::string hex;
    Shell(absl::StrCat(algorithm, "sum '", file, "'"), &hex);
    hex = hex.substr(0, hex.find(' '));
    return absl::StrCat("Upload-Checksum: ", algorithm, " ", Base64(absl::HexStringToBytes(hex)));
  }
  Reply Head(const std::string& user, const std::string& location) {
    return Curl(user, "", "-I -H 'Tus-Resumable: 1.0.0'", location);
  }
};

TEST_F(TusSystemTest, OptionsAdvertiseTheProtocol) {
  Reply r = Curl("", "", "-X OPTIONS", "/api/uploads/");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("tus-version"), "1.0.0");
  EXPECT_EQ(r.Header("tus-resumable"), "1.0.0");
  EXPECT_EQ(r.Header("tus-extension"),
            "creation,creation-with-upload,termination,checksum,expiration");
  EXPECT_EQ(r.Header("tus-max-size"), absl::StrCat(uint64_t{1} << 40));
  EXPECT_EQ(r.Header("tus-checksum-algorithm"), "sha1,sha256");
}

TEST_F(TusSystemTest, ErrorCases) {
  std::string alice = SignUp("alice"), bob = SignUp("bob");
  // No session; no protocol version; bad metadata; no path; bad length.
  EXPECT_EQ(Create("", "", 10, "/a").status, 401);
  EXPECT_EQ(Curl("alice", alice, "-X POST -H 'Upload-Length: 10' -H 'Upload-Metadata: path L2E='",
                 "/api/uploads/")
                .status,
            412);
  Reply bad = Curl("alice", alice,
                   "-X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 10' "
                   "-H 'Upload-Metadata: path !not-base64!'",
                   "/api/uploads/");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"error\""), std::string::npos) << bad.body;
  EXPECT_EQ(Curl("alice", alice,
                 "-X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 10' "
                 "-H 'Upload-Metadata: filename YQ=='",
                 "/api/uploads/")
                .status,
            400);
  EXPECT_EQ(Curl("alice", alice,
                 "-X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: -1' "
                 "-H 'Upload-Metadata: path L2E='",
                 "/api/uploads/")
                .status,
            400);
  EXPECT_EQ(Create("alice", alice, 10, "/../etc").status, 400);
  // Over Tus-Max-Size, and over the 10 GiB quota.
  EXPECT_EQ(Create("alice", alice, (uint64_t{1} << 40) + 1, "/a").status, 413);
  EXPECT_EQ(Create("alice", alice, uint64_t{11} << 30, "/a").status, 413);
  // CSRF still applies.
  EXPECT_EQ(Create("alice", "", 10, "/a").status, 403);

  Reply created = Create("alice", alice, 10, "/a.bin");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string location = created.Header("location");
  ASSERT_TRUE(location.starts_with("/api/uploads/")) << location;
  EXPECT_EQ(location.size(), std::string("/api/uploads/").size() + 32);  // 128 random bits
  Reply head = Head("alice", location);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("upload-offset"), "0");
  EXPECT_EQ(head.Header("upload-length"), "10");
  EXPECT_EQ(head.Header("tus-resumable"), "1.0.0");

  EXPECT_EQ(Patch("alice", alice, location, 3, "abc").status, 409);  // wrong offset
  EXPECT_EQ(Curl("alice", alice,
                 "-X PATCH -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' "
                 "-H 'Content-Type: text/plain' --data-binary abc",
                 location)
                .status,
            415);
  EXPECT_EQ(Patch("alice", "", location, 0, "abc").status, 403);
  EXPECT_EQ(Patch("alice", alice, location, 0, std::string(11, 'x')).status, 400);  // too long
  // Another user's upload is not there for bob.
  EXPECT_EQ(Head("bob", location).status, 404);
  EXPECT_EQ(Patch("bob", bob, location, 0, "abc").status, 404);
  EXPECT_EQ(Curl("bob", bob, "-X DELETE -H 'Tus-Resumable: 1.0.0'", location).status, 404);

  Reply patched = Patch("alice", alice, location, 0, "abcd");
  EXPECT_EQ(patched.status, 204);
  EXPECT_EQ(patched.Header("upload-offset"), "4");
  EXPECT_EQ(Head("alice", location).Header("upload-offset"), "4");
  EXPECT_EQ(Patch("alice", alice, location, 2, "cd").status, 409);
  // Termination: the upload and its bytes go; nothing lands.
  EXPECT_EQ(Curl("alice", alice, "-X DELETE -H 'Tus-Resumable: 1.0.0'", location).status, 204);
  EXPECT_EQ(Head("alice", location).status, 404);
  EXPECT_EQ(Patch("alice", alice, location, 4, "ef").status, 404);
  EXPECT_EQ(Curl("alice", "", "", "/api/files/content?path=/a.bin").status, 404);
  EXPECT_EQ(Head("alice", "/api/uploads/0123456789abcdef0123456789abcdef").status, 404);
}

TEST_F(TusSystemTest, UploadInPiecesLandsLikeAPut) {
  std::string carol = SignUp("carol");
  ASSERT_EQ(Curl("carol", carol, "-X POST -d '{\"path\":\"/docs\"}'", "/api/files/folder").status,
            201);
  for (std::string content : {"first version, a little text", "second, replacing the first!"}) {
    Reply created = Create("carol", carol, content.size(), "/docs/notes quarterly.txt");
    ASSERT_EQ(created.status, 201) << created.body;
    std::string location = created.Header("location");
    ASSERT_EQ(Patch("carol", carol, location, 0, content.substr(0, 7)).status, 204);
    Reply last = Patch("carol", carol, location, 7, content.substr(7));
    EXPECT_EQ(last.status, 204) << last.body;
    EXPECT_EQ(last.Header("upload-offset"), absl::StrCat(content.size()));
    // Finished: HEAD still answers, at the end.
    EXPECT_EQ(Head("carol", location).Header("upload-offset"), absl::StrCat(content.size()));
    Reply got = Curl("carol", "", "", "/api/files/content?path=/docs/notes%20quarterly.txt");
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, content);
  }
  auto versions = nlohmann::json::parse(
      Curl("carol", "", "", "/api/files/versions?path=/docs/notes%20quarterly.txt").body, nullptr,
      false);
  ASSERT_TRUE(versions.is_object());
  EXPECT_EQ(versions["versions"].size(), 1u);
  auto found = nlohmann::json::parse(Curl("carol", "", "", "/api/files/search?q=quarterly").body,
                                     nullptr, false);
  ASSERT_TRUE(found.is_object());
  ASSERT_EQ(found["entries"].size(), 1u);
  EXPECT_EQ(found["entries"][0]["path"], "/docs/notes quarterly.txt");
  // The quota counts the landed file once (the reservation was released).
  auto listing =
      nlohmann::json::parse(Curl("carol", "", "", "/api/files?path=/").body, nullptr, false);
  EXPECT_EQ(listing["usage"]["used"].get<uint64_t>(),
            std::string("first version, a little text").size() +
                std::string("second, replacing the first!").size());
}

// An Upload-Expires value: an RFC 7231 date, as seconds since the epoch (0 if it is not one).
int64_t ExpiresAt(const std::string& value) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, absl::UTCTimeZone(), &t, &error)) {
    return 0;
  }
  return absl::ToUnixSeconds(t);
}

TEST_F(TusSystemTest, ExtensionsWithCurl) {
  std::string erin = SignUp("erin");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  auto create_with = [&](const std::string& headers, uint64_t length, const std::string& path,
                         const std::string& bytes) {
    std::string file = cluster->dir + "/create.tmp";
    std::ofstream(file, std::ios::binary) << bytes;
    return Curl("erin", erin,
                absl::StrCat("-X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: ", length,
                             "' -H 'Upload-Metadata: path ", Base64(path), "' ", headers,
                             " --data-binary @'", file, "'"),
                "/api/uploads/");
  };
  const std::string offset_stream = "-H 'Content-Type: application/offset+octet-stream'";

  // creation-with-upload, and expiration: 24 h from now, on the creation and on HEAD.
  Reply created = create_with(offset_stream, 11, "/hello.txt", "hello ");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("upload-offset"), "6");
  std::string location = created.Header("location");
  std::string expires = created.Header("upload-expires");
  EXPECT_NEAR(ExpiresAt(expires), now + 24 * 3600, 600) << expires;
  Reply head = Head("erin", location);
  EXPECT_EQ(head.Header("upload-offset"), "6");
  EXPECT_EQ(head.Header("upload-expires"), expires);
  // A body of another type is refused before anything is created.
  EXPECT_EQ(create_with("-H 'Content-Type: text/plain'", 11, "/other.txt", "hello ").status, 415);

  // checksum: a wrong digest is 460 and keeps nothing; an algorithm not offered is 400.
  auto patch_with = [&](const std::string& header, const std::string& bytes) {
    std::string file = cluster->dir + "/patch.tmp";
    std::ofstream(file, std::ios::binary) << bytes;
    return Curl("erin", erin,
                absl::StrCat("-X PATCH -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 6' ",
                             offset_stream, " -H '", header, "' --data-binary @'", file, "'"),
                location);
  };
  Reply wrong = patch_with(ChecksumHeader("sha1", "world"), "w0rld");
  EXPECT_EQ(wrong.status, 460) << wrong.body;
  EXPECT_EQ(Head("erin", location).Header("upload-offset"), "6");
  EXPECT_EQ(patch_with("Upload-Checksum: md5 fbz/MPN8g+6gC1fQd9y4gg==", "world").status, 400);
  Reply right = patch_with(ChecksumHeader("sha1", "world"), "world");
  EXPECT_EQ(right.status, 204) << right.body;
  EXPECT_EQ(right.Header("upload-offset"), "11");
  // Finished: the file does not expire, so neither answer says it would.
  EXPECT_EQ(right.Header("upload-expires"), "");
  EXPECT_EQ(Curl("erin", "", "", "/api/files/content?path=/hello.txt").body, "hello world");

  // The whole file with its creation, vouched for by sha256.
  const std::string whole = "all at once";
  Reply at_once = create_with(offset_stream + " -H '" + ChecksumHeader("sha256", whole) + "'",
                              whole.size(), "/once.txt", whole);
  EXPECT_EQ(at_once.status, 201) << at_once.body;
  EXPECT_EQ(at_once.Header("upload-offset"), absl::StrCat(whole.size()));
  EXPECT_EQ(Curl("erin", "", "", "/api/files/content?path=/once.txt").body, whole);
  // A creation whose bytes fail their checksum still creates: it answers offset 0, and the
  // client goes on with PATCH.
  Reply refused = create_with(offset_stream + " -H '" + ChecksumHeader("sha256", whole) + "'",
                              whole.size(), "/later.txt", "not at once");
  EXPECT_EQ(refused.status, 201) << refused.body;
  EXPECT_EQ(refused.Header("upload-offset"), "0");
  EXPECT_EQ(
      Curl("erin", erin, "-X DELETE -H 'Tus-Resumable: 1.0.0'", refused.Header("location")).status,
      204);

  // Nothing held back for uploads in progress: the usage is the two files.
  auto listing =
      nlohmann::json::parse(Curl("erin", "", "", "/api/files?path=/").body, nullptr, false);
  EXPECT_EQ(listing["usage"]["used"].get<uint64_t>(), 11 + whole.size());
}

// Bytes received so far on the live connections to a listening port (ss -i counts them
// per socket): the frontend serving a PATCH receives a chunk's worth, the other one only
// small requests.
uint64_t BytesReceivedOn(int port) {
  std::string out;
  Shell(absl::StrCat("ss -tinH state established '( sport = :", port, " )'"), &out);
  uint64_t total = 0;
  for (size_t at = out.find("bytes_received:"); at != std::string::npos;
       at = out.find("bytes_received:", at + 1)) {
    total += std::strtoull(out.c_str() + at + 15, nullptr, 10);
  }
  return total;
}

// The JSON lines the node client printed so far.
std::vector<nlohmann::json> ClientLines(const std::string& log) {
  std::ifstream f(log);
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) lines.push_back(std::move(j));
  }
  return lines;
}

uint64_t LastAccepted(const std::vector<nlohmann::json>& lines) {
  uint64_t accepted = 0;
  for (const auto& j : lines) {
    if (j.contains("accepted")) accepted = j["accepted"].get<uint64_t>();
  }
  return accepted;
}

TEST_F(TusSystemTest, ResumesOnAnotherFrontendAfterSigkill) {
  std::string dave = SignUp("dave");
  std::string file = cluster->dir + "/big.bin";
  WriteRandomFile(file, kBigBytes, 20);
  std::string cookie;
  {
    std::ifstream jar(cluster->dir + "/dave.jar");
    std::string line;
    while (std::getline(jar, line)) {
      std::vector<std::string> f = absl::StrSplit(line, '\t');
      if (f.size() == 7 && f[5] == "pc_session") cookie = "pc_session=" + f[6];
    }
  }
  ASSERT_FALSE(cookie.empty());
  std::string log = cluster->dir + "/tus_client.log";
  auto client = Process::Start("/usr/bin/env",
                               {"NODE_PATH=" + SourcePath("tests/e2e/node_modules"), "node",
                                SourcePath("tests/drive/tus_upload.cjs"),
                                absl::StrCat("http://127.0.0.1:", cluster->http_port), cookie, dave,
                                file, "/big.bin", absl::StrCat(kClientChunk)},
                               log);
  ASSERT_TRUE(client.ok()) << client.status();

  // Mid-upload: once a quarter is in, kill the frontend that receives it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (LastAccepted(ClientLines(log)) < kBigBytes / 4) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the upload did not progress";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The serving frontend is frozen first; if the client's progress stops with it, a PATCH
  // is in its hands and the SIGKILL cuts it. (Between two PATCHes the coordinator would send
  // the next one elsewhere and the client would never see the drop; then thaw and look again.)
  int serving = -1;
  std::string seen;
  uint64_t accepted_at_kill = 0;
  for (int attempt = 0; attempt < 50 && serving < 0; ++attempt) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no PATCH caught: " << seen;
    uint64_t before[2] = {BytesReceivedOn(cluster->frontend_ports[0]),
                          BytesReceivedOn(cluster->frontend_ports[1])};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    uint64_t grew[2];
    for (int i = 0; i < 2; ++i) {
      uint64_t after = BytesReceivedOn(cluster->frontend_ports[i]);
      grew[i] = after > before[i] ? after - before[i] : 0;  // a closed connection drops out
    }
    absl::StrAppend(&seen, grew[0], "/", grew[1], " ");
    int receiving = grew[0] > grew[1] ? 0 : 1;
    if (grew[receiving] < 64 * 1024) continue;  // heartbeats and KVS answers are small
    Process& fe = cluster->frontends[receiving];
    fe.Stop();
    uint64_t accepted = LastAccepted(ClientLines(log));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (LastAccepted(ClientLines(log)) == accepted) {
      serving = receiving;
      accepted_at_kill = accepted;
      fe.Kill();
      fe.Wait();
    } else {
      fe.Continue();
    }
  }
  ASSERT_GE(serving, 0) << "no PATCH caught: " << seen;
  ASSERT_LT(accepted_at_kill, kBigBytes) << "the upload finished before the kill";
  std::cout << "killed frontend " << serving << " mid-PATCH at " << accepted_at_kill << "\n";

  int rc = client->Wait(std::chrono::seconds(120));
  auto lines = ClientLines(log);
  std::string all;
  for (const auto& j : lines) all += j.dump() + "\n";
  ASSERT_EQ(rc, 0) << all;
  const nlohmann::json& done = lines.back();
  ASSERT_TRUE(done.contains("done")) << all;
  EXPECT_GE(done["retries"].get<int>(), 1) << all;
  ASSERT_GE(done["resumedAt"].size(), 1u) << all;
  // The client resumed where the servers had stored up to: at or past what was acknowledged
  // before the kill.
  EXPECT_GE(done["resumedAt"][0]["offset"].get<uint64_t>(), accepted_at_kill) << all;
  uint64_t sent = done["sent"].get<uint64_t>();
  uint64_t resent = sent - kBigBytes;
  std::cout << "tus resume: file " << kBigBytes << " bytes, sent " << sent << " (" << resent
            << " twice), client chunk " << kClientChunk << ", acknowledged at the kill "
            << accepted_at_kill << ", resumed at " << done["resumedAt"][0]["offset"] << "\n";
  EXPECT_GE(sent, kBigBytes);
  EXPECT_LE(resent, kClientChunk) << all;

  // The file is whole and byte-exact, read through the coordinator from the survivor.
  std::string copy = cluster->dir + "/big.copy";
  std::string code;
  Shell(absl::StrCat("curl -s --max-time 120 -w '%{http_code}' -b '", cluster->dir,
                     "/dave.jar' -o '", copy, "' 'http://127.0.0.1:", cluster->http_port,
                     "/api/files/content?path=/big.bin'"),
        &code);
  EXPECT_EQ(code, "200");
  EXPECT_EQ(Sha256File(copy), Sha256File(file));
}

}  // namespace
}  // namespace penncloud::testing
