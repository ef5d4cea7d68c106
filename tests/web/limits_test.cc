// Per-client-address limits at the coordinator, from real clients (curl) on different
// loopback addresses (Linux routes all of 127/8 to lo, so each test is its own "client"):
// password guesses over the web login and WebDAV, parallel guesses, sign-ups, and open
// connections.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/web/web_cluster.h"

namespace penncloud::testing {
namespace {

std::string ShellOut(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

class LimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = WebCluster::Start(
        {.frontends = 2,
         .coordinator_flags = {"--login_failures_per_address=3", "--signups_per_hour_per_address=2",
                               "--max_connections_per_address=4"}});
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = c->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  // curl from source address `from`: "<status>" (and the body after a space if `body`).
  static std::string Curl(const std::string& from, const std::string& args,
                          const std::string& path) {
    return ShellOut(absl::StrCat("curl -s --max-time 20 --interface ", from,
                                 " -o /dev/null -w '%{http_code}' ", args,
                                 " http://127.0.0.1:", cluster_->http_port(), path));
  }
  // Repeats a plain GET from `from` until it answers `status` (10 s at most): for limits
  // that take effect once the coordinator has seen connections open or close.
  static bool CurlUntil(const std::string& from, const std::string& path,
                        const std::string& status) {
    for (int i = 0; i < 100; ++i) {
      if (Curl(from, "", path) == status) return true;
      usleep(100 * 1000);
    }
    return false;
  }
  static std::string Json(const std::string& user, const std::string& pw) {
    return absl::StrCat("-H 'Content-Type: application/json' --data '{\"username\":\"", user,
                        "\",\"password\":\"", pw, "\"}'");
  }
  static std::string Basic(const std::string& user, const std::string& pw) {
    return absl::StrCat("-u '", user, ":", pw, "' -X PROPFIND -H 'Depth: 0'");
  }

  static WebCluster* cluster_;
};
WebCluster* LimitsTest::cluster_ = nullptr;

TEST_F(LimitsTest, WrongPasswordsLockTheAddressOutOfWebAndWebDav) {
  const std::string me = "127.0.0.2";
  ASSERT_EQ(Curl(me, Json("victim", "password-right"), "/api/signup"), "201");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Curl(me, Json("victim", "wrong-guess"), "/api/login"), "401");
  // Locked out: even the right password is not checked from this address...
  EXPECT_EQ(Curl(me, Json("victim", "password-right"), "/api/login"), "429");
  EXPECT_EQ(Curl(me, Basic("victim", "password-right"), "/dav/"), "429");
  std::string retry =
      ShellOut(absl::StrCat("curl -s -D - -o /dev/null --interface ", me, " ", Json("victim", "x"),
                            " http://127.0.0.1:", cluster_->http_port(), "/api/login"));
  EXPECT_NE(retry.find("Retry-After: "), std::string::npos) << retry;
  // ...while the owner, from another address, logs in as usual (per-account back-off has
  // not started after 3 failures).
  EXPECT_EQ(Curl("127.0.0.3", Json("victim", "password-right"), "/api/login"), "200");
  EXPECT_EQ(Curl("127.0.0.3", Basic("victim", "password-right"), "/dav/"), "207");
  // Pages and other API calls from the locked address still work.
  EXPECT_EQ(Curl(me, "", "/login"), "200");
}

TEST_F(LimitsTest, WebDavGuessesCountToo) {
  const std::string me = "127.0.0.4";
  ASSERT_EQ(Curl("127.0.0.5", Json("davowner", "password-right"), "/api/signup"), "201");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Curl(me, Basic("davowner", "wrong-guess"), "/dav/"), "401");
  EXPECT_EQ(Curl(me, Basic("davowner", "password-right"), "/dav/"), "429");
  EXPECT_EQ(Curl(me, Json("davowner", "password-right"), "/api/login"), "429");
}

// Sixteen guesses at once: only a few reach a frontend's password check; the rest are
// refused at the door without one.
TEST_F(LimitsTest, ParallelGuessesAreNotAllChecked) {
  const std::string me = "127.0.0.6";
  ASSERT_EQ(Curl("127.0.0.7", Json("parallel", "password-right"), "/api/signup"), "201");
  std::string script;
  for (int i = 0; i < 16; ++i) {
    absl::StrAppend(&script, "curl -s --max-time 20 --interface ", me,
                    " -o /dev/null -w '%{http_code}\\n' ", Json("parallel", "wrong-guess"),
                    " http://127.0.0.1:", cluster_->http_port(), "/api/login & ");
  }
  absl::StrAppend(&script, "wait");
  std::vector<std::string> codes = absl::StrSplit(ShellOut(script), '\n', absl::SkipEmpty());
  ASSERT_EQ(codes.size(), 16u);
  int checked = 0, refused = 0;
  for (const std::string& code : codes) {
    if (code == "401") ++checked;
    if (code == "429") ++refused;
  }
  EXPECT_EQ(checked + refused, 16);
  // At most 4 in flight at once, and none admitted once 3 failures are in: <= 3 + 4 - 1.
  EXPECT_LE(checked, 6);
  EXPECT_GE(refused, 10);
}

TEST_F(LimitsTest, SignUpsPerAddressPerHour) {
  const std::string me = "127.0.0.8";
  EXPECT_EQ(Curl(me, Json("first1", "password-1"), "/api/signup"), "201");
  EXPECT_EQ(Curl(me, Json("second2", "password-2"), "/api/signup"), "201");
  EXPECT_EQ(Curl(me, Json("third3", "password-3"), "/api/signup"), "429");
  EXPECT_EQ(Curl("127.0.0.9", Json("third3", "password-3"), "/api/signup"), "201");
}

// Opens a TCP connection from `from` to the coordinator and leaves it idle.
int OpenIdleConnection(const std::string& from, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(LimitsTest, ConnectionsPerAddress) {
  const std::string me = "127.0.0.10";
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    int fd = OpenIdleConnection(me, cluster_->http_port());
    ASSERT_GE(fd, 0);
    held.push_back(fd);
  }
  // Once the coordinator has accepted the four, a fifth is refused.
  EXPECT_TRUE(CurlUntil(me, "/login", "429"));
  EXPECT_EQ(Curl("127.0.0.11", "", "/login"), "200");  // another address is not affected
  for (int fd : held) close(fd);
  // Once it has seen them closed, the address is served again.
  EXPECT_TRUE(CurlUntil(me, "/login", "200"));
}

}  // namespace
}  // namespace penncloud::testing
