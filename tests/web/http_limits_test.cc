// The HTTP limits of the coordinator (:8000), of a frontend and of their /metrics, from a
// raw socket so that each request is exactly as long as meant: the header section and the
// request bodies, each once at its limit (served) and once a byte over (a clear 4xx in
// JSON), the deadline on a request's head (408 for a client trickling it, over TLS too), and
// an upload answered before its body is read (answered and closed at once).
#include <fcntl.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "drive/drive.h"
#include "gtest/gtest.h"
#include "http/types.h"
#include "kvs/client/connect.h"
#include "tests/support/process.h"
#include "tests/web/http_client.h"
#include "tests/web/web_cluster.h"

namespace penncloud::testing {
namespace {

struct Answer {
  int status = 0;
  std::string text;  // the whole response as read
};

// A client's connection to one port, plain or over TLS (the certificate verified for
// 127.0.0.1), with 20 s timeouts on each read and write. A request that is refused is sent
// no further than the server reads it, or the server's close would reset the connection
// and take its answer with it.
class Connection {
 public:
  // Over TLS when `tls` is not null.
  Connection(int port, SSL_CTX* tls) {
    fd_ = ConnectLoopback(port, std::chrono::seconds(20));
    if (fd_ < 0 || tls == nullptr) return;
    ssl_ = SSL_new(tls);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) Close();
  }
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool ok() const { return fd_ >= 0; }

  bool Send(std::string_view bytes) {
    for (size_t sent = 0; ok() && sent < bytes.size();) {
      const size_t left = bytes.size() - sent;
      ssize_t n = ssl_ != nullptr ? SSL_write(ssl_, bytes.data() + sent, static_cast<int>(left))
                                  : send(fd_, bytes.data() + sent, left, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += n;
    }
    return ok();
  }

  // Whether a byte of an answer has arrived, without waiting for one. (Over TLS the socket
  // may hold a session ticket, which is not an answer.)
  bool Answered() {
    char byte;
    if (ssl_ == nullptr) return recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    const int flags = fcntl(fd_, F_GETFL);
    fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    const bool answered = SSL_peek(ssl_, &byte, 1) > 0;
    fcntl(fd_, F_SETFL, flags);
    return answered;
  }

  // Reads until the server closes the connection (every request here says "Connection:
  // close" or is refused, which closes too).
  Answer ReadToClose() {
    Answer out;
    char buf[16384];
    for (ssize_t n; ok() && (n = ssl_ != nullptr ? SSL_read(ssl_, buf, sizeof buf)
                                                 : recv(fd_, buf, sizeof buf, 0)) > 0;) {
      out.text.append(buf, n);
    }
    Close();
    if (out.text.starts_with("HTTP/1.1 ")) absl::SimpleAtoi(out.text.substr(9, 3), &out.status);
    return out;
  }

 private:
  void Close() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

Answer Exchange(int port, const std::string& request, SSL_CTX* tls = nullptr) {
  Connection c(port, tls);
  c.Send(request);
  return c.ReadToClose();
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

constexpr auto kHeadDeadline = std::chrono::milliseconds(1500);
constexpr uint64_t kOneTiB = uint64_t{1} << 40;

class HttpLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string deadline = absl::StrCat("--http_header_timeout_ms=", kHeadDeadline.count());
    frontend_metrics_port_ = FreePort();
    auto c =
        WebCluster::Start({.frontends = 1,
                           .coordinator_flags = {deadline},
                           .frontend_flags = {deadline, absl::StrCat("--metrics_listen=127.0.0.1:",
                                                                     frontend_metrics_port_)},
                           .https = true});
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = c->release();
    tls_ = SSL_CTX_new(TLS_client_method());
    ASSERT_EQ(SSL_CTX_load_verify_locations(tls_, cluster_->https_ca_file().c_str(), nullptr), 1);
    SSL_CTX_set_verify(tls_, SSL_VERIFY_PEER, nullptr);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    SSL_CTX_free(tls_);
    tls_ = nullptr;
  }
  static void ExpectRefused(const Answer& a, int status, const std::string& message) {
    EXPECT_EQ(a.status, status) << a.text.substr(0, 300);
    EXPECT_NE(a.text.find("application/json"), std::string::npos) << a.text.substr(0, 300);
    EXPECT_NE(a.text.find(message), std::string::npos) << a.text.substr(0, 300);
  }
  static WebCluster* cluster_;
  static int frontend_metrics_port_;
  static SSL_CTX* tls_;  // a client's, trusting the coordinator's HTTPS certificate
};
WebCluster* HttpLimitsTest::cluster_ = nullptr;
int HttpLimitsTest::frontend_metrics_port_ = 0;
SSL_CTX* HttpLimitsTest::tls_ = nullptr;

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
// answered 502) and closes (AnUploadAnsweredEarly... below).
TEST_F(HttpLimitsTest, JsonBodyAtItsLimitIsReadOneMoreIs413) {
  constexpr uint64_t kLimit = 1 << 20;
  for (int port : {cluster_->http_port(), cluster_->frontend_port(0)}) {
    // Read whole and passed to the handler, which wants a session.
    EXPECT_EQ(Exchange(port, PostWithBody("/api/files/folder", kLimit, true)).status, 401) << port;
    ExpectRefused(Exchange(port, PostWithBody("/api/files/folder", kLimit + 1, false)), 413,
                  "request body too large");
  }
}

// An upload a frontend answers before reading its body (413 by a Content-Length over the
// route's limit; 401 for a streamed upload without a session) reaches a client still in
// the middle of sending it, through the coordinator, at once, and the connection then
// ends: at once over plain HTTP (the coordinator half-closes after the answer and drains
// the rest of the body, so the client is not reset), and over TLS once the client has sent
// nothing for DownstreamSession::kLingerQuiet (1 s). The read that was waiting for the
// body when the answer came once kept the session's 60 s idle deadline, and the client
// waited for the connection to end until it gave up.
TEST_F(HttpLimitsTest, AnUploadAnsweredEarlyThroughTheCoordinatorIsAnsweredAndClosedAtOnce) {
  struct Case {
    const char* name;
    std::string head;
    int status;
  };
  const std::vector<Case> cases = {
      {"413", PostWithBody("/api/files/folder", (1 << 20) + 1, false), 413},
      {"401",
       "PUT /api/files/content?path=/a.bin HTTP/1.1\r\nHost: t\r\nContent-Length: "
       "1073741824\r\n\r\n",
       401}};
  for (const Case& c : cases) {
    for (SSL_CTX* tls : {static_cast<SSL_CTX*>(nullptr), tls_}) {
      const int port = tls ? cluster_->https_port() : cluster_->http_port();
      const auto promptly = std::chrono::seconds(tls ? 3 : 2);
      Connection client(port, tls);
      ASSERT_TRUE(client.ok()) << c.name;
      ASSERT_TRUE(client.Send(c.head + std::string(64 << 10, 'x'))) << c.name;
      auto sent = std::chrono::steady_clock::now();
      Answer a = client.ReadToClose();
      auto took = std::chrono::steady_clock::now() - sent;
      EXPECT_EQ(a.status, c.status)
          << c.name << (tls ? " over TLS: " : ": ") << a.text.substr(0, 300);
      EXPECT_NE(a.text.find("Connection: close"), std::string::npos) << a.text.substr(0, 300);
      EXPECT_LT(took, promptly) << c.name << (tls ? " over TLS" : "");
    }
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

// A scrape whose header fields are exactly `bytes` long, as GetWithFieldBytes counts them.
std::string ScrapeWithFieldBytes(size_t bytes) {
  std::string fields = "Host: t\r\nConnection: close\r\nX-Pad: ";
  return "GET /metrics HTTP/1.1\r\n" + fields + std::string(bytes - fields.size() - 4, 'p') +
         "\r\n\r\n";
}

TEST_F(HttpLimitsTest, MetricsHeaderFieldsAtTheLimitAreServedOneMoreIs431) {
  constexpr size_t kLimit = 8 << 10;  // metrics::kMaxScrapeHeaderBytes
  for (int port : {cluster_->metrics_port(), frontend_metrics_port_}) {
    Answer at = Exchange(port, ScrapeWithFieldBytes(kLimit));
    EXPECT_EQ(at.status, 200) << port << ": " << at.text.substr(0, 300);
    Answer over = Exchange(port, ScrapeWithFieldBytes(kLimit + 1));
    EXPECT_EQ(over.status, 431) << port << ": " << over.text.substr(0, 300);
    EXPECT_NE(over.text.find("request header too large"), std::string::npos) << over.text;
  }
}

struct Trickled {
  Answer answer;
  std::chrono::steady_clock::duration took{};  // from the first byte to the answer
  int beside_status = 0;                       // of a normal request sent meanwhile
};

// Sends a head one byte per 100 ms until the server answers; a third of a second in, a
// normal request on another connection to the same port must be served meanwhile.
// Over TLS when `tls` is not null.
Trickled Trickle(int port, SSL_CTX* tls, const std::string& normal) {
  Trickled out;
  Connection c(port, tls);
  if (!c.ok()) return out;
  const std::string head = "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(200, 's');
  auto first_byte = std::chrono::steady_clock::now();
  for (size_t i = 0; i < head.size(); ++i) {
    if (!c.Send(std::string_view(&head[i], 1))) break;
    if (i == 3) out.beside_status = Exchange(port, normal, tls).status;
    if (c.Answered()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  out.took = std::chrono::steady_clock::now() - first_byte;
  out.answer = c.ReadToClose();
  return out;
}

// Every HTTP server of the two binaries, and the coordinator's HTTPS listener, cuts a
// trickled head off near the deadline with a 408, while serving a normal client beside it,
// and counts it.
TEST_F(HttpLimitsTest, ATrickledHeadIsCutOffNearTheDeadlineWhileOthersAreServed) {
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  const std::string scrape = "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  struct Case {
    const char* name;
    int port;
    SSL_CTX* tls;
    std::string normal;
    bool json;
    Trickled result = {};
  };
  std::vector<Case> cases = {
      {"coordinator", cluster_->http_port(), nullptr, healthz, true},
      {"coordinator over TLS", cluster_->https_port(), tls_, healthz, true},
      {"frontend", cluster_->frontend_port(0), nullptr, healthz, true},
      {"coordinator /metrics", cluster_->metrics_port(), nullptr, scrape, false},
      {"frontend /metrics", frontend_metrics_port_, nullptr, scrape, false}};
  std::vector<std::thread> threads;
  for (Case& c : cases) {
    threads.emplace_back([&c] { c.result = Trickle(c.port, c.tls, c.normal); });
  }
  for (auto& t : threads) t.join();
  for (const Case& c : cases) {
    const Trickled& r = c.result;
    EXPECT_EQ(r.beside_status, 200) << c.name;
    EXPECT_EQ(r.answer.status, 408) << c.name << ": " << r.answer.text.substr(0, 300);
    EXPECT_NE(r.answer.text.find("request header not received in time"), std::string::npos)
        << c.name;
    if (c.json) {
      EXPECT_NE(r.answer.text.find("application/json"), std::string::npos) << c.name;
    }
    EXPECT_GE(r.took, kHeadDeadline) << c.name;
    // Near the deadline: the next byte or two after it, with room for a loaded machine.
    EXPECT_LT(r.took, kHeadDeadline + std::chrono::seconds(3)) << c.name;
  }
  // Both of the coordinator's listeners count as its server.
  Answer coordinator = Exchange(cluster_->metrics_port(), scrape);
  EXPECT_NE(coordinator.text.find(
                R"(http_request_heads_refused_total{server="coordinator",reason="timeout"} 2)"),
            std::string::npos);
  EXPECT_NE(coordinator.text.find(
                R"(http_request_heads_refused_total{server="metrics",reason="timeout"} 1)"),
            std::string::npos);
  Answer frontend = Exchange(frontend_metrics_port_, scrape);
  EXPECT_NE(frontend.text.find(
                R"(http_request_heads_refused_total{server="frontend",reason="timeout"} 1)"),
            std::string::npos);
}

// The drive's uploads take up to 1 TiB (kMaxUploadBytes): one byte more is refused by its
// Content-Length before any of the body is read, here and through the coordinator.
TEST_F(HttpLimitsTest, AnUploadOfOneTiBAndAByteIs413BeforeItsBodyIsRead) {
  for (int port : {cluster_->http_port(), cluster_->frontend_port(0)}) {
    Answer a =
        Exchange(port, absl::StrCat("PUT /api/files/content?path=/big.bin HTTP/1.1\r\n",
                                    "Host: t\r\nConnection: close\r\nContent-Length: ", kOneTiB + 1,
                                    "\r\n\r\n"));
    ExpectRefused(a, 413, "request body too large");
  }
}

// Exactly 1 TiB passes the HTTP limits and reaches the drive, whose quota refuses it: a
// user whose quota is 0 gets the drive's own error after the first piece of the body
// (1 MiB: the frontend hands the body to the drive in pieces that size).
TEST_F(HttpLimitsTest, AnUploadOfExactlyOneTiBIsTakenUpToTheQuotaCheck) {
  HttpClient client(cluster_->http_port());
  absl::StatusOr<HttpResponse> signup;
  for (int i = 0; i < 50; ++i) {  // the frontend may need a moment to find the store's leader
    signup = client.Send("POST", "/api/signup",
                         R"({"username":"tebibyte","password":"correct-horse-7"})",
                         {{"Content-Type", "application/json"}});
    if (signup.ok() && signup->status < 500) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(signup.ok()) << signup.status();
  ASSERT_EQ(signup->status, 201) << signup->body;
  size_t at = signup->body.find("\"csrf\":\"");
  ASSERT_NE(at, std::string::npos) << signup->body;
  const std::string csrf = signup->body.substr(at + 8, signup->body.find('"', at + 8) - at - 8);
  std::string cookies;
  for (const auto& [name, value] : client.jar()) absl::StrAppend(&cookies, name, "=", value, "; ");

  auto store = kvs::Connect(cluster_->kvs_spec());
  ASSERT_TRUE(store.ok()) << store.status();
  drive::Drive drive(store->get());
  ASSERT_TRUE(drive.SetQuota("tebibyte", 0).ok());

  for (int port : {cluster_->http_port(), cluster_->frontend_port(0)}) {
    Connection c(port, nullptr);
    ASSERT_TRUE(c.ok());
    c.Send(absl::StrCat("PUT /api/files/content?path=/big.bin HTTP/1.1\r\nHost: t\r\n",
                        "Cookie: ", cookies, "\r\nX-CSRF-Token: ", csrf,
                        "\r\nContent-Length: ", kOneTiB, "\r\n\r\n"));
    c.Send(std::string(1 << 20, 'b'));
    ExpectRefused(c.ReadToClose(), 507, "the file does not fit in your quota");
  }
}

}  // namespace
}  // namespace penncloud::testing
