// The HTTP limits of the coordinator (:8000) and of a frontend, from a raw socket so that
// each request is exactly as long as meant: the header section and the request bodies,
// each once at its limit (served) and once a byte over (a clear 4xx in JSON).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "http/types.h"
#include "tests/web/web_cluster.h"

namespace penncloud::testing {
namespace {

struct Answer {
  int status = 0;
  std::string text;  // the whole response as read
};

// Sends `request` on a new connection and reads until the server closes it (every request
// here says "Connection: close" or is refused, which closes too). A refused request is
// sent no further than the server reads it, or the server's close would reset the
// connection and take its answer with it.
Answer Exchange(int port, const std::string& request) {
  Answer out;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{.tv_sec = 20, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return out;
  }
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += n;
  }
  char buf[16384];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.text.append(buf, n);
  close(fd);
  if (out.text.starts_with("HTTP/1.1 ")) absl::SimpleAtoi(out.text.substr(9, 3), &out.status);
  return out;
}

// A GET whose header fields, from the line after the request line through the blank line,
// are exactly `bytes` long (Beast holds the request line and the fields to the limit apart).
std::string GetWithFieldBytes(size_t bytes) {
  std::string fields = "Host: t\r\nConnection: close\r\nX-Pad: ";
  std::string tail = "\r\n\r\n";
  return "GET /api/me HTTP/1.1\r\n" + fields +
         std::string(bytes - fields.size() - tail.size(), 'p') + tail;
}

// A POST whose body is `length` bytes; when `send_body` is false only the header goes, as
// a refusal by Content-Length must come before any body is read.
std::string PostWithBody(const std::string& path, uint64_t length, bool send_body) {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n",
                      "Content-Type: application/json\r\nContent-Length: ", length, "\r\n\r\n",
                      send_body ? std::string(length, ' ') : "");
}

class HttpLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = WebCluster::Start({.frontends = 1});
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = c->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static void ExpectRefused(const Answer& a, int status, const std::string& message) {
    EXPECT_EQ(a.status, status) << a.text.substr(0, 300);
    EXPECT_NE(a.text.find("application/json"), std::string::npos) << a.text.substr(0, 300);
    EXPECT_NE(a.text.find(message), std::string::npos) << a.text.substr(0, 300);
  }
  static WebCluster* cluster_;
};
WebCluster* HttpLimitsTest::cluster_ = nullptr;

TEST_F(HttpLimitsTest, HeaderFieldsAtTheCoordinatorsLimitAreServedOneMoreIs431) {
  const int port = cluster_->http_port();
  // Served all the way through: the frontend behind reads what the coordinator adds too.
  EXPECT_EQ(Exchange(port, GetWithFieldBytes(http::kMaxHeaderBytes)).status, 401);
  ExpectRefused(Exchange(port, GetWithFieldBytes(http::kMaxHeaderBytes + 1)), 431,
                "request header too large");
}

TEST_F(HttpLimitsTest, HeaderFieldsAtAFrontendsLimitAreServedOneMoreIs431) {
  const int port = cluster_->frontend_port(0);
  const size_t limit = http::kMaxHeaderBytes + http::kForwardedHeaderBytes;
  EXPECT_EQ(Exchange(port, GetWithFieldBytes(limit)).status, 401);
  ExpectRefused(Exchange(port, GetWithFieldBytes(limit + 1)), 431, "request header too large");
}

// A JSON route takes 1 MiB (RouteOptions::max_body), through the coordinator (which
// buffers up to 1 MiB) and directly. A frontend refuses a longer body by its Content-Length
// before reading it. Through the coordinator a longer body is streamed to the frontend,
// which answers 413 and closes; the coordinator passes that early answer on (it once
// answered 502).
TEST_F(HttpLimitsTest, JsonBodyAtItsLimitIsReadOneMoreIs413) {
  constexpr uint64_t kLimit = 1 << 20;
  for (int port : {cluster_->http_port(), cluster_->frontend_port(0)}) {
    // Read whole and passed to the handler, which wants a session.
    EXPECT_EQ(Exchange(port, PostWithBody("/api/files/folder", kLimit, true)).status, 401) << port;
    ExpectRefused(Exchange(port, PostWithBody("/api/files/folder", kLimit + 1, false)), 413,
                  "request body too large");
  }
}

TEST_F(HttpLimitsTest, UnroutedBodyAtItsLimitIsReadOneMoreIs413) {
  const uint64_t limit = http::kMaxUnroutedBodyBytes;
  const int port = cluster_->frontend_port(0);
  EXPECT_EQ(Exchange(port, PostWithBody("/api/no-such-route", limit, true)).status, 404);
  ExpectRefused(Exchange(port, PostWithBody("/api/no-such-route", limit + 1, false)), 413,
                "request body too large");
}

// The console's API is served by the coordinator itself, with its own 1 MiB limit: the
// body is read in full, then the handler refuses a caller who is not an admin (403); one
// byte more is refused by its Content-Length, before the body is read (it was once read
// whole, whatever its length: Beast checks a length against body_limit only in the header).
TEST_F(HttpLimitsTest, AdminBodyAtItsLimitIsReadOneMoreIs413) {
  constexpr uint64_t kLimit = 1 << 20;
  const int port = cluster_->http_port();
  EXPECT_EQ(Exchange(port, PostWithBody("/api/admin/invites", kLimit, true)).status, 403);
  ExpectRefused(Exchange(port, PostWithBody("/api/admin/invites", kLimit + 1, false)), 413,
                "request body too large");
}

}  // namespace
}  // namespace penncloud::testing
