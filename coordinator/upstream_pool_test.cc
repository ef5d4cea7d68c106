#include "coordinator/upstream_pool.h"

#include <poll.h>

#include <boost/asio.hpp>

#include "gtest/gtest.h"

namespace penncloud::coordinator {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Connected loopback pairs: the pool holds the client end, the test plays the frontend.
class UpstreamPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    acceptor_.open(tcp::v4());
    acceptor_.bind({net::ip::address_v4::loopback(), 0});
    acceptor_.listen();
  }

  // The proxy's end of a new connection; its frontend end goes into frontend_ends_.
  tcp::socket Connect() {
    tcp::socket client(ioc_);
    client.connect(acceptor_.local_endpoint());
    frontend_ends_.push_back(acceptor_.accept());
    return client;
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::vector<tcp::socket> frontend_ends_;
  Upstream upstream_{"127.0.0.1:1", 2};
  UpstreamPool pool_{2, 2};
  Clock::time_point t0_ = Clock::now();
};

TEST_F(UpstreamPoolTest, AQuietConnectionIsReusedOnItsOwnThreadOnly) {
  tcp::socket s = Connect();
  auto handle = s.native_handle();
  pool_.Give(&upstream_, 0, std::move(s), t0_);
  EXPECT_FALSE(pool_.Take(&upstream_, 1, t0_).has_value());
  auto taken = pool_.Take(&upstream_, 0, t0_ + std::chrono::seconds(1));
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->native_handle(), handle);
  EXPECT_FALSE(pool_.Take(&upstream_, 0, t0_).has_value());  // taken once
}

TEST_F(UpstreamPoolTest, ConnectionsNearTheFrontendsIdleTimeoutExpire) {
  pool_.Give(&upstream_, 0, Connect(), t0_);
  EXPECT_FALSE(pool_.Take(&upstream_, 0, t0_ + UpstreamPool::kMaxIdleAge).has_value());
}

TEST_F(UpstreamPoolTest, ConnectionsTheFrontendClosedOrWroteToAreNotReused) {
  tcp::socket closed = Connect(), written = Connect();
  frontend_ends_[0].close();
  net::write(frontend_ends_[1], net::buffer("x", 1));
  // Wait until both events have reached the proxy's ends.
  for (tcp::socket* s : {&closed, &written}) {
    pollfd p{.fd = s->native_handle(), .events = POLLIN, .revents = 0};
    ASSERT_EQ(poll(&p, 1, 5000), 1);
  }
  pool_.Give(&upstream_, 0, std::move(closed), t0_);
  pool_.Give(&upstream_, 0, std::move(written), t0_);
  EXPECT_FALSE(pool_.Take(&upstream_, 0, t0_).has_value());
  pool_.Give(&upstream_, 0, Connect(), t0_);  // quiet
  EXPECT_TRUE(pool_.Take(&upstream_, 0, t0_).has_value());
}

TEST_F(UpstreamPoolTest, IdleConnectionsAreCappedPerThreadAndForgotten) {
  for (int i = 0; i < 3; ++i) pool_.Give(&upstream_, 0, Connect(), t0_);
  pool_.Give(&upstream_, 1, Connect(), t0_);
  int taken = 0;
  while (pool_.Take(&upstream_, 0, t0_)) ++taken;
  EXPECT_EQ(taken, 2);  // the cap
  pool_.Forget(&upstream_);
  EXPECT_FALSE(pool_.Take(&upstream_, 1, t0_).has_value());
}

TEST_F(UpstreamPoolTest, HealthyListFollowsTheRegistryAndKeepsOneEntryPerAddress) {
  Registry registry;
  registry.Beat("frontend", "127.0.0.1:9001", "fe1", {.in_flight = 4}, 1, Clock::now(), 0);
  auto first = pool_.Healthy(&registry, true);
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].upstream->address, "127.0.0.1:9001");
  EXPECT_EQ((*first)[0].in_flight, 4);
  registry.Beat("frontend", "127.0.0.1:9002", "fe2", {}, 1, Clock::now(), 0);
  EXPECT_EQ(pool_.Healthy(&registry, false)->size(), 1u);  // cached
  pool_.Invalidate();
  auto second = pool_.Healthy(&registry, false);
  ASSERT_EQ(second->size(), 2u);
  for (const Candidate& c : *second) {
    if (c.upstream->address == "127.0.0.1:9001") {
      EXPECT_EQ(c.upstream, (*first)[0].upstream);
    }
  }
}

}  // namespace
}  // namespace penncloud::coordinator
