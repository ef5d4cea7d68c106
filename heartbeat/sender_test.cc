#include "heartbeat/sender.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/coordinator.grpc.pb.h"
#include "tests/support/test_pki.h"

namespace penncloud::heartbeat {
namespace {

using namespace std::chrono_literals;

// A coordinator that only counts the beats it receives and sets a fast pace.
class CountingCoordinator final : public coordinator::pb::Coordinator::Service {
 public:
  CountingCoordinator() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", tls::ServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~CountingCoordinator() override { server_->Shutdown(std::chrono::system_clock::now()); }

  grpc::Status Heartbeat(grpc::ServerContext*, const coordinator::pb::HeartbeatRequest*,
                         coordinator::pb::HeartbeatResponse* response) override {
    ++beats_;
    response->set_interval_ms(50);
    return grpc::Status::OK;
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int beats() const { return beats_; }

 private:
  int port_ = 0;
  std::atomic<int> beats_{0};
  std::unique_ptr<grpc::Server> server_;
};

// A coordinator that hangs: the kernel completes the TCP handshake into the backlog, and
// nothing ever answers, so every beat to it waits out its deadline.
class HungCoordinator {
 public:
  HungCoordinator() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 64) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen";
    }
    port_ = ntohs(addr.sin_port);
  }
  ~HungCoordinator() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

// Beats every 50 ms to `coordinators`.
HeartbeatOptions Fast(std::vector<std::string> coordinators) {
  HeartbeatOptions options;
  options.coordinators = std::move(coordinators);
  options.address = "127.0.0.1:1";
  options.name = "frontend-test";
  options.interval_ms = 50;
  return options;
}

class SenderTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::TestPki::Shared(); }
};

TEST(ParseCoordinatorListTest, SplitsTrimsAndDropsRepeats) {
  EXPECT_EQ(ParseCoordinatorList("a:1, b:2 ,,a:1"), (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_TRUE(ParseCoordinatorList("").empty());
  EXPECT_TRUE(ParseCoordinatorList(" , ").empty());
}

TEST_F(SenderTest, BeatsEveryCoordinator) {
  CountingCoordinator a, b;
  HeartbeatSender sender(Fast({a.address(), b.address()}), [] { return coordinator::pb::Load(); });
  EXPECT_TRUE(WaitFor([&] { return a.beats() >= 5 && b.beats() >= 5; }, 10s))
      << a.beats() << " and " << b.beats();
}

// A hung coordinator costs a beat its 500 ms deadline: sent one after the other, twenty
// beats to the live one would take over ten seconds. Each coordinator has its own thread,
// so the live one keeps its 50 ms pace.
TEST_F(SenderTest, HungCoordinatorDelaysNoOtherBeat) {
  CountingCoordinator live;
  HungCoordinator hung;
  HeartbeatSender sender(Fast({hung.address(), live.address()}),
                         [] { return coordinator::pb::Load(); });
  ASSERT_TRUE(WaitFor([&] { return live.beats() >= 1; }, 10s));
  auto start = std::chrono::steady_clock::now();
  const int from = live.beats();
  ASSERT_TRUE(WaitFor([&] { return live.beats() >= from + 20; }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(SenderTest, RefusedCoordinatorDelaysNoOtherBeat) {
  CountingCoordinator live;
  std::string refused;
  {
    HungCoordinator closed;  // its port is free again once closed: connections are refused
    refused = closed.address();
  }
  HeartbeatSender sender(Fast({refused, live.address()}), [] { return coordinator::pb::Load(); });
  EXPECT_TRUE(WaitFor([&] { return live.beats() >= 20; }, 4s)) << live.beats();
}

// Every coordinator hears the same interval's load: with two coordinators beating every
// 50 ms, the load is measured about once per 25-50 ms, not once per beat per coordinator
// in a burst.
TEST_F(SenderTest, LoadIsMeasuredOncePerIntervalForAllCoordinators) {
  CountingCoordinator a, b;
  std::atomic<int> measured{0};
  HeartbeatSender sender(Fast({a.address(), b.address()}), [&] {
    ++measured;
    return coordinator::pb::Load();
  });
  ASSERT_TRUE(WaitFor([&] { return a.beats() >= 20 && b.beats() >= 20; }, 10s));
  sender.Stop();
  EXPECT_LT(measured.load(), a.beats() + b.beats());
  EXPECT_GE(measured.load(), 10);
}

TEST_F(SenderTest, StopEndsEveryThreadPromptly) {
  CountingCoordinator live;
  HungCoordinator hung;
  HeartbeatSender sender(Fast({live.address(), hung.address()}),
                         [] { return coordinator::pb::Load(); });
  ASSERT_TRUE(WaitFor([&] { return live.beats() >= 2; }, 10s));
  auto start = std::chrono::steady_clock::now();
  sender.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // at most one beat's deadline
  const int after = live.beats();
  std::this_thread::sleep_for(200ms);  // a "nothing happens" check: no beat after Stop
  EXPECT_EQ(live.beats(), after);
}

}  // namespace
}  // namespace penncloud::heartbeat
