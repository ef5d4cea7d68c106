// WebDAV with cadaver, a real interactive client, on the real system (3-replica KVS
// group, coordinator, frontend), through the coordinator. cadaver reads its commands from
// stdin (one per line, as typed at its prompt) and the login from ~/.netrc, so each
// session runs non-interactively with HOME set to a folder of the test's own. What each
// session did is then checked through the drive's JSON API with curl:
// - put, get, mkcol, copy, move, delete, rmcol, ls, propset and propget;
// - over HTTPS with a certificate from the cluster CA, its trust prompt answered on stdin;
// - lock: a lock cadaver takes outlives its session, refuses another client's PUT (423),
//   lets cadaver's own PUT through (it sends the token), and is lifted by a second
//   session's unlock, which asks for the token at its prompt (answered on stdin).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/drive/drive_fixture.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

class CadaverTest : public DriveFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Start({"carla"}));
    ASSERT_EQ(Shell(absl::StrCat("mkdir -p '", dir_, "/home'")), 0);
    std::ofstream(dir_ + "/home/.netrc") << "machine 127.0.0.1\nlogin carla\npassword password1\n";
    ASSERT_EQ(Shell(absl::StrCat("chmod 600 '", dir_, "/home/.netrc'")), 0);
  }

  // One cadaver session running `commands` (one per line) in dir_ against `url` (default:
  // the coordinator's /dav/ over plain HTTP); its whole transcript. Over HTTPS it runs on a
  // pseudo-terminal (cadaver_tty.py), the first command answering the certificate question.
  std::string Cadaver(const std::vector<std::string>& commands, std::string url = "") {
    if (url.empty()) url = absl::StrCat("http://127.0.0.1:", cluster_->http_port(), "/dav/");
    const std::string script = dir_ + "/cadaver.in";
    std::ofstream in(script);
    for (const std::string& c : commands) in << c << "\n";
    const bool tty = url.starts_with("https:");
    if (!tty) in << "quit\n";  // the terminal driver types its own
    in.close();
    const std::string run =
        tty ? absl::StrCat("python3 '", SourcePath("tests/drive/cadaver_tty.py"), "' --timeout=60 ")
            : std::string("timeout 60 cadaver ");
    std::string out;
    Shell(absl::StrCat("cd '", dir_, "' && HOME='", dir_, "/home' ", run, url, " < '", script,
                       "' 2>&1"),
          &out);
    return out;
  }

  CurlReply Api(const std::string& args, const std::string& target) {
    return RunCurl(
        cluster_->http_port(), dir_,
        absl::StrCat("-b '", dir_, "/carla.jar' -H 'X-CSRF-Token: ", csrf_["carla"], "' ", args),
        target);
  }
  // The names in a folder, as the drive page lists them.
  std::set<std::string> Names(const std::string& folder) {
    CurlReply r = Api("", "/api/files?path=" + folder);
    std::set<std::string> names;
    if (r.status != 200) return {"<status " + std::to_string(r.status) + ">"};
    const nlohmann::json body = r.Json();
    for (const auto& e : body["entries"]) names.insert(e["name"].get<std::string>());
    return names;
  }
  std::string Content(const std::string& path) {
    return Api("", "/api/files/content?path=" + path).body;
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
  }
  std::string Read(const std::string& name) {
    std::ifstream f(dir_ + "/" + name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  // How many of cadaver's commands said "succeeded" and how many "failed".
  static std::pair<int, int> Outcomes(const std::string& transcript) {
    auto count = [&](const std::regex& re) {
      return static_cast<int>(
          std::distance(std::sregex_iterator(transcript.begin(), transcript.end(), re), {}));
    };
    return {count(std::regex("succeeded\\.")), count(std::regex("failed:"))};
  }
  // A DAV PUT by another client (curl), with no lock token.
  int DavPut(const std::string& path, const std::string& local) {
    std::string code;
    Shell(
        absl::StrCat("curl -s -o /dev/null -w '%{http_code}' --max-time 30 -u carla:password1 -T '",
                     dir_, "/", local, "' http://127.0.0.1:", cluster_->http_port(), "/dav", path),
        &code);
    return std::atoi(code.c_str());
  }
};

TEST_F(CadaverTest, EveryCommandLandsInTheDrive) {
  Write("report.txt", "quarterly numbers\n");
  Write("notes.txt", "meeting notes\n");
  std::string out = Cadaver({
      "mkcol Projects",
      "mkcol Projects/Old",
      "put report.txt Projects/report.txt",
      "put notes.txt Projects/notes.txt",
      "copy Projects/report.txt Projects/Old/report-2025.txt",
      "move Projects/notes.txt Projects/minutes.txt",
      "put notes.txt Projects/scratch.txt",
      "delete Projects/scratch.txt",
      "get Projects/report.txt fetched.txt",
      "propset Projects/report.txt colour blue",
      "propget Projects/report.txt colour",
      "ls Projects",
  });
  // Every command but propget (which prints the value instead) says "succeeded".
  EXPECT_EQ(Outcomes(out), std::make_pair(11, 0)) << out;
  EXPECT_NE(out.find("Value of colour is: blue"), std::string::npos) << out;
  // ls shows the folder as it is now, sizes included.
  EXPECT_TRUE(std::regex_search(out, std::regex("report\\.txt +18 "))) << out;
  EXPECT_NE(out.find("minutes.txt"), std::string::npos) << out;
  EXPECT_EQ(out.find("scratch.txt  "), std::string::npos) << out;
  EXPECT_EQ(Read("fetched.txt"), "quarterly numbers\n");

  // The drive's JSON API sees exactly what cadaver did.
  EXPECT_EQ(Names("/"), (std::set<std::string>{"Projects"}));
  EXPECT_EQ(Names("/Projects"), (std::set<std::string>{"Old", "minutes.txt", "report.txt"}));
  EXPECT_EQ(Names("/Projects/Old"), (std::set<std::string>{"report-2025.txt"}));
  EXPECT_EQ(Content("/Projects/Old/report-2025.txt"), "quarterly numbers\n");
  EXPECT_EQ(Content("/Projects/minutes.txt"), "meeting notes\n");
  // DELETE went to the trash.
  CurlReply trash = Api("", "/api/trash");
  ASSERT_EQ(trash.status, 200) << trash.body;
  ASSERT_EQ(trash.Json()["entries"].size(), 1u) << trash.body;
  EXPECT_EQ(trash.Json()["entries"][0]["path"], "/Projects/scratch.txt");

  // A failure is reported as one, and rmcol removes a folder with what is inside.
  out = Cadaver({"get Projects/missing.txt nothing.txt", "rmcol Projects/Old"});
  EXPECT_EQ(Outcomes(out), std::make_pair(1, 1)) << out;
  EXPECT_NE(out.find("404"), std::string::npos) << out;
  EXPECT_EQ(Names("/Projects"), (std::set<std::string>{"minutes.txt", "report.txt"}));
}

TEST_F(CadaverTest, ALockRefusesOthersUntilUnlockedWithItsToken) {
  Write("v1.txt", "version one\n");
  Write("v2.txt", "version two\n");
  Write("v3.txt", "version three\n");
  std::string out = Cadaver({
      "put v1.txt plan.txt", "lock plan.txt", "showlocks",
      "put v2.txt plan.txt",  // cadaver sends its token: allowed
  });
  EXPECT_EQ(Outcomes(out), std::make_pair(3, 0)) << out;
  std::smatch token;
  ASSERT_TRUE(std::regex_search(out, token, std::regex("Lock token <([^>]+)>"))) << out;
  EXPECT_EQ(Content("/plan.txt"), "version two\n");

  // cadaver left without unlocking: the lock stays, and another client is refused.
  EXPECT_EQ(DavPut("/plan.txt", "v3.txt"), 423);
  EXPECT_EQ(Content("/plan.txt"), "version two\n");
  std::string discovered;
  Shell(absl::StrCat("curl -s --max-time 30 -u carla:password1 -X PROPFIND -H 'Depth: 0' "
                     "http://127.0.0.1:",
                     cluster_->http_port(), "/dav/plan.txt"),
        &discovered);
  EXPECT_NE(discovered.find(token[1].str()), std::string::npos) << discovered;

  // A new session does not know the token: unlock asks for it at the prompt.
  out = Cadaver({"unlock plan.txt", token[1].str()});
  EXPECT_EQ(Outcomes(out), std::make_pair(1, 0)) << out;
  EXPECT_EQ(DavPut("/plan.txt", "v3.txt"), 204);
  EXPECT_EQ(Content("/plan.txt"), "version three\n");
}

TEST_F(CadaverTest, OverHttpsTheCertificatePromptIsAnsweredOnStdin) {
  // A second web tier on the same store, serving HTTPS as start.sh sets it up: the
  // coordinator's certificate is issued by a cluster CA (scripts/lib/tls.sh), which is in no
  // trust store cadaver reads, and cadaver has no option to trust a CA. Given a pipe, it
  // rejects such a certificate without asking; on a terminal it asks "Do you wish to accept
  // the certificate? (y/n)". So the session runs on a pseudo-terminal (cadaver_tty.py) and
  // the first line answers: "y" accepts the certificate for this session, "n" refuses it.
  const std::string tls = SourcePath("scripts/lib/tls.sh");
  ASSERT_EQ(Shell(absl::StrCat("bash ", tls, " ca '", dir_, "/ca' >/dev/null 2>&1 && bash ", tls,
                               " issue '", dir_, "/ca' https web/https 127.0.0.1 >/dev/null 2>&1")),
            0);
  const int http = FreePort(), grpc = FreePort(), https = FreePort(), frontend = FreePort();
  auto coordinator =
      Process::Start(BinaryPath("coordinator"),
                     {absl::StrCat("--http_port=", http), absl::StrCat("--grpc_port=", grpc),
                      absl::StrCat("--https_port=", https), "--tls_cert=" + dir_ + "/ca/https.crt",
                      "--tls_key=" + dir_ + "/ca/https.key", "--kvs=" + cluster_->kvs_spec()},
                     dir_ + "/coordinator-https.log");
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  auto web = Process::Start(BinaryPath("frontend"),
                            {absl::StrCat("--port=", frontend), "--kvs=" + cluster_->kvs_spec(),
                             absl::StrCat("--coordinator=127.0.0.1:", grpc),
                             "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=8"},
                            dir_ + "/frontend-https.log");
  ASSERT_TRUE(web.ok()) << web.status();
  ASSERT_TRUE(WaitForPort(https));
  // Routed once the frontend's first heartbeat arrived: wait for a DAV answer, bounded.
  const std::string url = absl::StrCat("https://127.0.0.1:", https, "/dav/");
  std::string code;
  for (int i = 0; i < 100 && code != "207"; ++i) {
    Shell(absl::StrCat("curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert '", dir_,
                       "/ca/ca.crt' -u carla:password1 -X PROPFIND -H 'Depth: 0' ", url),
          &code);
    if (code != "207") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(code, "207");

  Write("secret.txt", "over TLS\n");
  std::string out =
      Cadaver({"y", "mkcol Vault", "put secret.txt Vault/secret.txt", "ls Vault"}, url);
  EXPECT_NE(out.find("accept the certificate"), std::string::npos) << out;
  EXPECT_EQ(Outcomes(out), std::make_pair(3, 0)) << out;
  EXPECT_EQ(Content("/Vault/secret.txt"), "over TLS\n");  // through the plain tier's API
  // Refused, the session does nothing.
  out = Cadaver({"n", "mkcol Refused"}, url);
  EXPECT_EQ(Outcomes(out).first, 0) << out;
  EXPECT_EQ(Names("/"), (std::set<std::string>{"Vault"}));
}

}  // namespace
}  // namespace penncloud::testing
