// SIGTERM drains /metrics too: after the binary's own drain it stops accepting scrapes and
// finishes the ones in flight, then the process exits 0. On a real frontend.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int ConnectTo(int port) { return ConnectLoopback(port, 10s); }

// Sends `bytes` on `fd`, reads until the server closes it, and closes it.
std::string Finish(int fd, const std::string& bytes) {
  send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string text;
  char buf[16384];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) text.append(buf, n);
  close(fd);
  return text;
}

TEST(MetricsDrainTest, SigtermFinishesAScrapeInFlightAndRefusesNewOnes) {
  const std::string dir = TempDir("penncloud-metrics-drain");
  const int port = FreePort(), metrics_port = FreePort();
  auto frontend =
      Process::Start(BinaryPath("frontend"),
                     {absl::StrCat("--port=", port), "--kvs=memory", "--coordinator=",
                      absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port), "--io_threads=1"},
                     dir + "/frontend.log");
  ASSERT_TRUE(frontend.ok()) << frontend.status();
  ASSERT_TRUE(WaitForPort(port));
  ASSERT_TRUE(WaitForPort(metrics_port));

  const std::string scrape = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
  int in_flight = ConnectTo(metrics_port);
  ASSERT_GE(in_flight, 0);
  ASSERT_EQ(send(in_flight, scrape.data(), 10, MSG_NOSIGNAL), 10);  // "GET /metri"
  // A whole scrape answered after those bytes were sent: the server's one thread has read
  // them, so the first scrape is in flight.
  std::string before = Finish(ConnectTo(metrics_port), scrape);
  ASSERT_TRUE(before.starts_with("HTTP/1.1 200")) << before.substr(0, 200);

  Clock::time_point sigterm_at = Clock::now();
  frontend->Terminate();
  bool refused = false;
  for (auto until = Clock::now() + 5s; !refused && Clock::now() < until;) {
    int probe = ConnectTo(metrics_port);
    refused = probe < 0;
    if (!refused) {
      close(probe);
      std::this_thread::sleep_for(10ms);
    }
  }
  EXPECT_TRUE(refused) << "a draining /metrics still accepts connections";
  std::string answer = Finish(in_flight, scrape.substr(10));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer.substr(0, 200);
  EXPECT_NE(answer.find("frontend_draining 1"), std::string::npos);

  int status = frontend->Wait(10s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  EXPECT_LT(Clock::now() - sigterm_at, 5s);
  RemoveTree(dir);
}

}  // namespace
}  // namespace penncloud::testing
