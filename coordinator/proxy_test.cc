// The proxy and the frontend server together in one process, with curl as the client:
// bodies stream both ways with flat memory, HEAD and keep-alive work, and a request is
// retried on a second frontend when the first is gone.
#include "coordinator/proxy.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "frontend/api_context.h"
#include "frontend/server.h"
#include "gtest/gtest.h"

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
                [](frontend::Request& req) {
                  uint64_t total = 0;
                  while (true) {
                    auto piece = req.body_reader->Read(1 << 20);
                    if (!piece.ok()) return frontend::ErrorResponse(400, "broken body");
                    if (piece->empty()) break;
                    total += piece->size();
                  }
                  return frontend::JsonResponse(200, {{"bytes", total}});
                },
                {.stream_body = true, .max_body = 4 * kGiB});
    router_.Add("GET", "/source", [](frontend::Request& req) {
      auto left = std::make_shared<uint64_t>(std::stoull(req.Query("bytes", "0")));
      frontend::Response res;
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
    router_.Add("GET", "/pieces", [](frontend::Request& req) {
      auto next = std::make_shared<int>(0);
      int n = std::stoi(req.Query("n", "0"));
      frontend::Response res;
      res.stream = [next, n]() -> absl::StatusOr<std::optional<std::string>> {
        if (*next == n) return std::nullopt;
        return absl::StrCat("piece", (*next)++, ";");
      };
      return res;
    });
    router_.Add("GET", "/hello", [](frontend::Request& req) {
      frontend::Response res;
      res.body = "hello " + std::string(req.headers.Get("X-Request-Id").empty() ? "anon" : "id");
      return res;
    });

    for (int i = 0; i < 2; ++i) {
      servers_.push_back(std::make_unique<frontend::Server>(
          &router_, frontend::ServerOptions{.io_threads = 1, .workers = 4}));
      auto port = servers_.back()->Start();
      ASSERT_TRUE(port.ok());
      ports_.push_back(*port);
      threads_.emplace_back([s = servers_.back().get()] { s->Run(); });
    }
    proxy_ = std::make_unique<Proxy>(&registry_, &local_, &pool_, ProxyOptions{.port = 0});
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
    for (auto& s : servers_) s->Stop(100);
    for (auto& t : threads_) t.join();
  }

  void Announce(int i) {
    beating_[i] = true;
    Beat(i);
  }

  void Beat(int i) {
    registry_.Beat("frontend", absl::StrCat("127.0.0.1:", ports_[i]), "fe", {}, 1, Clock::now(), 0);
  }

  std::string Url(const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", proxy_port_, path);
  }

  frontend::Router router_;
  frontend::Router local_;
  frontend::WorkerPool pool_{2, 100};
  Registry registry_;
  std::vector<std::unique_ptr<frontend::Server>> servers_;
  std::vector<uint16_t> ports_;
  std::unique_ptr<Proxy> proxy_;
  uint16_t proxy_port_ = 0;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_beats_{false};
  std::array<std::atomic<bool>, 2> beating_{};
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
  local_.Add("GET", "/admin", [](frontend::Request&) {
    frontend::Response res;
    res.body = "console";
    return res;
  });
  local_.Add("GET", "/api/admin/nodes", [](frontend::Request&) {
    frontend::Response res;
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

}  // namespace
}  // namespace penncloud::coordinator
