// The proxy and the frontend server together in one process, with curl as the client:
// bodies stream both ways with flat memory, HEAD and keep-alive work, a request is retried
// on a second frontend when the first is gone (POSTs too, when they never reached it), a
// frontend's early 413 reaches the client, and Server-Sent Events from a scripted frontend
// pass unbuffered through :8000.
#include "coordinator/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/write_deadline.h"
#include "frontend/api_context.h"
#include "gtest/gtest.h"
#include "http/server.h"
#include "http/static_files.h"
#include "tests/support/fault_proxy.h"

namespace penncloud::coordinator {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

// Peak resident set of this process, in MiB.
long PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return "";
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // PUT /sink counts the streamed bytes; GET /source?bytes=N streams N zero bytes.
    router_.Add("PUT", "/sink",
                [](http::Request& req) {
                  uint64_t total = 0;
                  while (true) {
                    auto piece = req.body_reader->Read(1 << 20);
                    if (!piece.ok()) return http::ErrorResponse(400, "broken body");
                    if (piece->empty()) break;
                    total += piece->size();
                  }
                  return http::JsonResponse(200, {{"bytes", total}});
                },
                {.stream_body = true, .max_body = 4 * kGiB});
    router_.Add("GET", "/source", [](http::Request& req) {
      auto left = std::make_shared<uint64_t>(std::stoull(req.Query("bytes", "0")));
      http::Response res;
      res.headers.Set("Content-Type", "application/octet-stream");
      res.content_length = *left;
      res.stream = [left]() -> absl::StatusOr<std::optional<std::string>> {
        if (*left == 0) return std::nullopt;
        uint64_t n = std::min<uint64_t>(*left, 1 << 20);
        *left -= n;
        return std::string(n, '\0');
      };
      return res;
    });
    // GET /pieces?n=N streams "piece0;piece1;..." with no length: the frontend chunks it.
    router_.Add("GET", "/pieces", [](http::Request& req) {
      auto next = std::make_shared<int>(0);
      int n = std::stoi(req.Query("n", "0"));
      http::Response res;
      res.stream = [next, n]() -> absl::StatusOr<std::optional<std::string>> {
        if (*next == n) return std::nullopt;
        return absl::StrCat("piece", (*next)++, ";");
      };
      return res;
    });
    // POST /json: a JSON route, which takes at most 1 MiB.
    router_.Add("POST", "/json", [](http::Request& req) {
      return http::JsonResponse(200, {{"bytes", req.body.size()}});
    });
    // PUT /budget: whether the request's write budget had run out when its handler began.
    router_.Add("PUT", "/budget", [](http::Request&) {
      return http::JsonResponse(200, {{"passed", write_deadline::Passed()}});
    });
    router_.Add("GET", "/hello", [](http::Request& req) {
      http::Response res;
      res.body = "hello " + std::string(req.headers.Get("X-Request-Id").empty() ? "anon" : "id");
      return res;
    });

    for (int i = 0; i < 2; ++i) {
      servers_.push_back(std::make_unique<http::Server>(
          &router_, http::ServerOptions{.io_threads = 1, .workers = 4}));
      auto port = servers_.back()->Start();
      ASSERT_TRUE(port.ok());
      ports_.push_back(*port);
      server_threads_.emplace_back([s = servers_.back().get()] { s->Run(); });
    }
    proxy_ = std::make_unique<Proxy>(&registry_, &local_, &pool_, Options());
    auto port = proxy_->Start();
    ASSERT_TRUE(port.ok());
    proxy_port_ = *port;
    threads_.emplace_back([this] { proxy_->Run(); });
    // Heartbeats for the frontends a test has announced, as their senders would.
    threads_.emplace_back([this] {
      while (!stop_beats_.load()) {
        for (size_t i = 0; i < beating_.size(); ++i) {
          if (beating_[i].load()) Beat(static_cast<int>(i));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }

  void TearDown() override {
    stop_beats_ = true;
    proxy_->Stop();
    for (auto& s : servers_) {
      if (s) s->Stop(100);
    }
    for (auto& t : server_threads_) {
      if (t.joinable()) t.join();
    }
    for (auto& t : threads_) t.join();
  }

  virtual ProxyOptions Options() { return {.port = 0}; }

  // As SIGKILL would: the listener and every connection close at once (the frontend is
  // still beating, so the proxy does not know yet).
  void Kill(int i) {
    servers_[i]->Stop(0);
    server_threads_[i].join();
    servers_[i].reset();
  }

  void Announce(int i) {
    beating_[i] = true;
    Beat(i);
  }

  void Beat(int i) {
    registry_.Beat("frontend", absl::StrCat("127.0.0.1:", ports_[i]), "fe",
                   {.in_flight = reported_load_[i].load()}, 1, Clock::now(), 0);
  }

  std::string Url(const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", proxy_port_, path);
  }

  http::Router router_;
  http::Router local_;
  http::WorkerPool pool_{2, 100};
  Registry registry_;
  std::vector<std::unique_ptr<http::Server>> servers_;
  std::vector<uint16_t> ports_;
  std::unique_ptr<Proxy> proxy_;
  uint16_t proxy_port_ = 0;
  std::vector<std::thread> server_threads_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_beats_{false};
  std::array<std::atomic<bool>, 2> beating_{};
  std::array<std::atomic<int64_t>, 2> reported_load_{};
};

TEST_F(ProxyTest, LargeBodiesStreamBothWaysWithFlatMemory) {
  Announce(0);
  std::string dir = ::testing::TempDir();
  std::string file = dir + "/penncloud-proxy-1g";
  // A sparse file: 512 MiB long, no disk used. (Uploads are the slow direction on a busy
  // 2-core machine; 512 MiB is already far beyond the memory bound checked below.)
  { std::ofstream(file).close(); }
  ASSERT_EQ(truncate(file.c_str(), static_cast<off_t>(kGiB / 2)), 0);

  std::string up = Shell("curl -sS -T " + file + " " + Url("/sink"));
  EXPECT_EQ(up, absl::StrCat(R"({"bytes":)", kGiB / 2, "}"));
  std::string chunked = Shell("head -c 64000000 /dev/zero | curl -sS -T - " + Url("/sink"));
  EXPECT_EQ(chunked, R"({"bytes":64000000})");
  std::string down =
      Shell(absl::StrCat("curl -sS -o /dev/null -w '%{http_code} %{size_download}' '",
                         Url("/source?bytes="), kGiB, "'"));
  EXPECT_EQ(down, absl::StrCat("200 ", kGiB));
  unlink(file.c_str());
  long peak = PeakRssMiB();
  EXPECT_LT(peak, 200) << "peak RSS " << peak << " MiB";
  RecordProperty("peak_rss_mib", static_cast<int>(peak));
}

TEST_F(ProxyTest, HeadKeepAliveAndRequestIds) {
  Announce(0);
  std::string out =
      Shell("curl -sS " + Url("/hello") + " " + Url("/hello") + " -w ' %{num_connects}'");
  EXPECT_EQ(out, "hello id 1hello id 0") << "want the second answer over the kept-alive connection";
  std::string head = Shell(absl::StrCat("curl -sS -I '", Url("/source?bytes=5000"), "'"));
  EXPECT_NE(head.find("Content-Length: 5000"), std::string::npos) << head;
}

// A write that reaches its frontend long after the client sent it (the coordinator's host
// could not send, and the kernel delivered the request from the socket's buffer when the
// network healed) has spent its budget on the way: its writes are refused, not applied over
// what the client did after giving up. The multi-host test's one-way cut saw such an upload
// land 14 s late; here a slow link between the proxy and the frontend holds it 1.2 s
// against a 500 ms budget. Before the proxy stamped requests, the frontend counted the
// budget from its own receipt and let the writes in.
TEST_F(ProxyTest, TimeInTransitToTheFrontendCountsAgainstTheWriteBudget) {
  penncloud::testing::FaultProxy slow(ports_[0]);
  const std::string address = absl::StrCat("127.0.0.1:", slow.port());
  auto beat = [&] { registry_.Beat("frontend", address, "fe-slow", {}, 1, Clock::now(), 0); };
  beat();  // registered before the first request, however late the thread below starts
  std::atomic<bool> done{false};
  std::thread beats([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      beat();
    }
  });
  const std::string put = absl::StrCat("curl -sS -X PUT --data-binary x -H '",
                                       write_deadline::kTimeoutHeader, ": 500' ", Url("/budget"));
  // A client's own stamp is not believed (a future one would stretch nothing anyway).
  const std::string forged = absl::StrCat(" -H '", write_deadline::kSentHeader, ": 1'");
  EXPECT_EQ(Shell(put + forged), R"({"passed":false})") << "a quick link leaves the budget";
  slow.SetDelay(std::chrono::milliseconds(1200));
  EXPECT_EQ(Shell(put), R"({"passed":true})") << "the 1.2 s in transit were not counted";
  slow.SetDelay(std::chrono::milliseconds(0));
  done = true;
  beats.join();
}

// The network between the client and the coordinator can hold a request too: the multi-host
// test's cut delivered an upload to a cut-off coordinator when the network healed, 14 s after
// its client had given up; the coordinator stamped it then, and the frontend applied it over
// the newer upload the client had been acknowledged meanwhile. Only the client's own clock
// knows when it stopped waiting (kDeadlineHeader). A slow link before the coordinator holds
// each request 1.2 s here against a 500 ms wait.
TEST_F(ProxyTest, TheClientsOwnDeadlineCountsTimeHeldBeforeTheCoordinator) {
  Announce(0);
  penncloud::testing::FaultProxy slow(proxy_port_);
  slow.SetDelay(std::chrono::milliseconds(1200));
  const std::string put =
      absl::StrCat("curl -sS -X PUT --data-binary x -H '", write_deadline::kTimeoutHeader,
                   ": 500' http://127.0.0.1:", slow.port(), "/budget");
  EXPECT_EQ(Shell(put), R"({"passed":false})") << "the coordinator's stamp cannot see the hold";
  const int64_t wait_ends_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch() + std::chrono::milliseconds(500))
          .count();
  EXPECT_EQ(
      Shell(absl::StrCat(put, " -H '", write_deadline::kDeadlineHeader, ": ", wait_ends_ms, "'")),
      R"({"passed":true})");
  slow.SetDelay(std::chrono::milliseconds(0));
}

TEST_F(ProxyTest, BodiesOfUnknownLengthAreChunkedOrCloseDelimited) {
  Announce(0);
  std::string want;
  for (int i = 0; i < 50; ++i) absl::StrAppend(&want, "piece", i, ";");
  std::string url = Url("/pieces?n=50");
  std::string head = Shell("curl -sS -o /dev/null -D - '" + url + "'");
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_EQ(Shell("curl -sS '" + url + "' '" + url + "' -w ' %{num_connects}'"),
            want + " 1" + want + " 0");  // the chunked body ended cleanly: connection reused
  // HTTP/1.0 has no chunks: the body ends with the connection.
  EXPECT_EQ(Shell("curl -sS --http1.0 '" + url + "'"), want);
}

TEST_F(ProxyTest, DeadFrontendIsSkippedAndRequestRetried) {
  Announce(0);
  Announce(1);
  servers_[0]->Stop(0);  // frontend 0 is gone but still looks healthy to the registry
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Shell("curl -sS " + Url("/hello")), "hello id") << i;
  }
  // The proxy reported it: only frontend 1 is healthy now.
  auto healthy = registry_.Healthy("frontend", Clock::now());
  ASSERT_EQ(healthy.size(), 1u);
  EXPECT_EQ(healthy[0].first, absl::StrCat("127.0.0.1:", ports_[1]));
}

TEST_F(ProxyTest, NoFrontendIs503AndAdminPathsStayLocal) {
  std::string out = Shell("curl -sS -w ' %{http_code}' " + Url("/hello"));
  EXPECT_EQ(out, R"({"error":"no frontend available; try again"} 503)");
  Beat(0);
  out = Shell("curl -sS -w ' %{http_code}' " + Url("/admin"));
  EXPECT_EQ(out, R"({"error":"not found"} 404)");  // the (empty) local router answered
}

// The coordinator decides what it serves itself on the decoded path, as the frontends
// decode it: "/%61dmin" once went to a frontend, which served the console page.
TEST_F(ProxyTest, AdminPathsStayLocalWhateverTheirSpelling) {
  local_.Add("GET", "/admin", [](http::Request&) {
    http::Response res;
    res.body = "console";
    return res;
  });
  local_.Add("GET", "/api/admin/nodes", [](http::Request&) {
    http::Response res;
    res.body = "nodes";
    return res;
  });
  Announce(0);
  for (const char* path : {"/admin", "/%61dmin", "/%61%64%6D%69%6E", "/%2561dmin"}) {
    std::string out =
        Shell(absl::StrCat("curl -sS --path-as-is -w ' %{http_code}' '", Url(path), "'"));
    if (std::string(path) == "/%2561dmin") {
      EXPECT_NE(out, "console 200") << path;  // decoded once: "/%61dmin" is not the console
    } else {
      EXPECT_EQ(out, "console 200") << path;
    }
  }
  EXPECT_EQ(Shell("curl -sS --path-as-is -w ' %{http_code}' '" + Url("/api/%61dmin/nodes") + "'"),
            "nodes 200");
}

// A JSON body over the route's limit streams through the proxy (it buffers only 1 MiB);
// the frontend answers 413 by its length and closes before reading it. The client gets
// that 413, not a 502, whether it waits for 100-continue, sends at once, or sends chunks.
TEST_F(ProxyTest, FrontendsEarlyAnswerToAnUploadReachesTheClient) {
  Announce(0);
  std::string file = ::testing::TempDir() + "/penncloud-proxy-2m";
  { std::ofstream(file) << std::string(2 << 20, '{'); }
  const std::string want = R"({"error":"request body too large"} 413)";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Shell("curl -sS -w ' %{http_code}' --data-binary @" + file + " " + Url("/json")),
              want)
        << "100-continue, round " << i;
    EXPECT_EQ(Shell("curl -sS -w ' %{http_code}' -H 'Expect:' --data-binary @" + file + " " +
                    Url("/json")),
              want)
        << "no 100-continue, round " << i;
  }
  EXPECT_EQ(
      Shell("head -c 8000000 /dev/zero | curl -sS -w ' %{http_code}' -X POST -T - " + Url("/json")),
      want);
  // Under the limit the same route works, and the frontend is still in the rotation.
  EXPECT_EQ(Shell("curl -sS --data-binary 12345 " + Url("/json")), R"({"bytes":5})");
  unlink(file.c_str());
}

// A frontend killed while it looked healthy: requests that provably never reached it (its
// pooled connections closed, new ones refused) go to the other frontend, POSTs included.
TEST_F(ProxyTest, RequestsThatNeverReachedAKilledFrontendGoElsewhereWhateverTheMethod) {
  reported_load_[1] = 1000;  // frontend 0 is the proxy's first choice while it looks healthy
  Announce(0);
  Announce(1);
  // Keep-alive connections to frontend 0 wait in the pool.
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(Shell("curl -sS --data-binary 1 " + Url("/json")), R"({"bytes":1})");
  }
  Kill(0);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Shell("curl -sS -w ' %{http_code}' --data-binary 12 " + Url("/json")),
              R"({"bytes":2} 200)")
        << i;
  }
}

TEST_F(ProxyTest, StreamedUploadToAKilledFrontendGoesElsewhere) {
  reported_load_[1] = 1000;
  Announce(0);
  Announce(1);
  Kill(0);
  EXPECT_EQ(Shell("head -c 3000000 /dev/zero | curl -sS -T - " + Url("/sink")),
            R"({"bytes":3000000})");
}

// A raw loopback server standing in for a frontend, scripted by the test.
class FakeFrontend {
 public:
  FakeFrontend() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 4);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~FakeFrontend() {
    if (conn_ >= 0) close(conn_);
    close(fd_);
  }
  uint16_t port() const { return port_; }

  // Accepts one connection and reads its request head; false after `timeout_ms`.
  bool AcceptRequest(int timeout_ms) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    conn_ = accept(fd_, nullptr, nullptr);
    std::string head;
    return ReadUntil(conn_, head, "\r\n\r\n", timeout_ms);
  }
  bool Send(std::string_view bytes) {
    return write(conn_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
  // True once the proxy closed its side of the connection.
  bool WaitClosed(int timeout_ms) {
    pollfd p{.fd = conn_, .events = POLLIN, .revents = 0};
    char buf[256];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (poll(&p, 1, 100) == 1 && read(conn_, buf, sizeof buf) <= 0) return true;
    }
    return false;
  }

  // Appends what `fd` sends to `out` until `needle` is in it; false after `timeout_ms`.
  static bool ReadUntil(int fd, std::string& out, std::string_view needle, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    while (out.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return false;
      out.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

 private:
  int fd_ = -1;
  int conn_ = -1;
  uint16_t port_ = 0;
};

class ProxyShortTimeoutsTest : public ProxyTest {
 protected:
  ProxyOptions Options() override {
    return {.port = 0, .idle_timeout_s = 1, .upstream_timeout_s = 1};
  }
};

// A coordinator that answers the web app's files itself (--serve_static).
class ProxyEdgeTest : public ProxyTest {
 protected:
  ProxyOptions Options() override {
    web_ = ::testing::TempDir() + "/penncloud-edge-web";
    std::filesystem::create_directories(web_ + "/static");
    std::ofstream(web_ + "/index.html") << "<p>home</p>";
    std::ofstream(web_ + "/mail.html") << "<p>mail</p>";
    std::ofstream(web_ + "/static/app.js") << "app();";
    http::RegisterStaticRoutes(edge_,
                               {.pages_root = web_,
                                .hidden_pages = {"admin"},
                                .folders = {{.prefix = "/static", .root = web_ + "/static"}}});
    return {.port = 0, .edge = &edge_};
  }
  std::string web_;
  http::Router edge_;
};

// Pages load while every frontend is down, with the pages' security headers.
TEST_F(ProxyEdgeTest, PagesAndAssetsAreServedWithNoFrontendUp) {
  EXPECT_EQ(Shell("curl -sS -w ' %{http_code}' " + Url("/")), "<p>home</p> 200");
  EXPECT_EQ(Shell("curl -sS -w ' %{http_code}' " + Url("/mail")), "<p>mail</p> 200");
  EXPECT_EQ(Shell("curl -sS -w ' %{http_code}' " + Url("/static/app.js")), "app(); 200");
  std::string head = Shell("curl -sS -I " + Url("/mail"));
  EXPECT_NE(head.find("Content-Security-Policy: default-src 'self'"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Request-Id: "), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Length: 11"), std::string::npos) << head;
  // Nothing else is answered here: with no frontend up, the rest is 503.
  EXPECT_EQ(Shell("curl -sS -o /dev/null -w '%{http_code}' " + Url("/hello")), "503");
}

// A path with no file at the edge, or a request that is not a plain GET or HEAD, goes to a
// frontend, whose routes come before its static files.
TEST_F(ProxyEdgeTest, EverythingButTheEdgesFilesGoesToAFrontend) {
  Announce(0);
  EXPECT_EQ(Shell("curl -sS -H 'X-Request-Id: r1' " + Url("/hello")), "hello id");
  EXPECT_EQ(Shell("curl -sS -w ' %{http_code}' --data-binary x " + Url("/json")),
            R"({"bytes":1} 200)");
  EXPECT_EQ(Shell("curl -sS -o /dev/null -w '%{http_code}' -X POST " + Url("/mail")), "404");
  // The console page is never the edge's, whatever its files.
  std::ofstream(web_ + "/admin.html") << "<p>stale console</p>";
  EXPECT_EQ(Shell("curl -sS -w ' %{http_code}' " + Url("/admin")), R"({"error":"not found"} 404)");
}

// Heartbeats for a fake frontend for as long as the object lives.
class BeatWhileAlive {
 public:
  // The first beat is in by the time the constructor returns.
  BeatWhileAlive(Registry* registry, uint16_t port)
      : first_(registry->Beat("frontend", absl::StrCat("127.0.0.1:", port), "fake", {}, 1,
                              Clock::now(), 0)),
        thread_([this, registry, port] {
          // Each sleep is a heartbeat interval, not a wait for a condition.
          for (int i = 0; i < 600 && !done_.load(); ++i) {
            registry->Beat("frontend", absl::StrCat("127.0.0.1:", port), "fake", {}, 1,
                           Clock::now(), 0);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
        }) {}
  ~BeatWhileAlive() {
    done_ = true;
    thread_.join();
  }

 private:
  bool first_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// One event stream from `frontend` to the client reading `client_fd`: the head reaches
// the client before any event, and each event before the frontend sends the next (nothing
// is buffered), across quiet gaps longer than every proxy timeout (the tests set 1 s).
void RelaySlowEvents(FakeFrontend& frontend, int client_fd) {
  ASSERT_TRUE(frontend.AcceptRequest(10000));
  ASSERT_TRUE(frontend.Send(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"));
  std::string got;
  ASSERT_TRUE(FakeFrontend::ReadUntil(client_fd, got, "text/event-stream", 5000)) << got;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    // Quiet for longer than the proxy's 1 s idle and upstream timeouts.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    std::string event = absl::StrCat("event: mail\ndata: ", i, "\n\n");
    ASSERT_TRUE(frontend.Send(absl::StrCat(absl::Hex(event.size()), "\r\n", event, "\r\n")));
    ASSERT_TRUE(FakeFrontend::ReadUntil(client_fd, got, absl::StrCat("data: ", i, "\n\n"), 5000))
        << "event " << i << " not relayed; got: " << got;
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(4500));
}

// Server-Sent Events through :8000, and the client's departure closes the stream to the
// frontend at once (not at the next event).
TEST_F(ProxyShortTimeoutsTest, EventStreamsPassUnbufferedAndOutliveTheTimeouts) {
  FakeFrontend frontend;
  BeatWhileAlive beats(&registry_, frontend.port());
  int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(proxy_port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(client, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  RelaySlowEvents(frontend, client);
  close(client);
  EXPECT_TRUE(frontend.WaitClosed(5000)) << "the stream to the frontend outlived its client";
}

}  // namespace
}  // namespace penncloud::coordinator
