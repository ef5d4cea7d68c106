// The /metrics endpoint's limits and drain, on loopback: its header limit at the limit and
// one byte over, the head deadline, and SIGTERM's drain (stop accepting, finish scrapes).
#include "http/metrics_server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace penncloud::metrics {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = 500ms;

class MetricsServerLimitsTest : public ::testing::Test {
 protected:
  MetricsServerLimitsTest() {
    registry_.Counter("scrapes_test_total", "a series to scrape").With().Inc();
    auto started = MetricsServer::Start("127.0.0.1:0", &registry_, kDeadline);
    EXPECT_TRUE(started.ok()) << started.status();
    if (started.ok()) server_ = std::move(*started);
  }

  tcp::socket Connect(boost::system::error_code& ec) {
    tcp::socket s(ioc_);
    s.connect({net::ip::make_address("127.0.0.1"), server_->port()}, ec);
    return s;
  }

  // Sends `bytes` and reads the answer until the server closes: its status and text.
  static std::pair<int, std::string> Finish(tcp::socket& s, const std::string& bytes) {
    boost::system::error_code ec;
    net::write(s, net::buffer(bytes), ec);
    std::string text;
    char buf[4096];
    for (size_t n; (n = s.read_some(net::buffer(buf), ec)) > 0 || !ec;) text.append(buf, n);
    int status = text.size() > 12 ? std::stoi(text.substr(9, 3)) : 0;
    return {status, text};
  }

  std::pair<int, std::string> Scrape(const std::string& request) {
    boost::system::error_code ec;
    tcp::socket s = Connect(ec);
    if (ec) return {0, ec.message()};
    return Finish(s, request);
  }

  Registry registry_;
  net::io_context ioc_;
  std::unique_ptr<MetricsServer> server_;
};

// A scrape whose header fields, counted as http/header_bytes.h counts them, are `bytes`.
std::string ScrapeWithFieldBytes(size_t bytes) {
  const std::string fields = "Host: t\r\nX-Pad: ";
  return "GET /metrics HTTP/1.1\r\n" + fields + std::string(bytes - fields.size() - 4, 'p') +
         "\r\n\r\n";
}

TEST_F(MetricsServerLimitsTest, HeaderFieldsAtTheLimitAreServedOneMoreIs431) {
  auto at = Scrape(ScrapeWithFieldBytes(kMaxScrapeHeaderBytes));
  EXPECT_EQ(at.first, 200) << at.second.substr(0, 200);
  EXPECT_NE(at.second.find("scrapes_test_total 1"), std::string::npos);
  auto over = Scrape(ScrapeWithFieldBytes(kMaxScrapeHeaderBytes + 1));
  EXPECT_EQ(over.first, 431) << over.second.substr(0, 200);
  EXPECT_NE(over.second.find("request header too large"), std::string::npos);
}

TEST_F(MetricsServerLimitsTest, ATrickledHeadIs408WhileAScrapeBesideItIsServed) {
  boost::system::error_code ec;
  tcp::socket slow = Connect(ec);
  ASSERT_FALSE(ec) << ec.message();
  const std::string head = "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(100, 's');
  Clock::time_point first_byte = Clock::now();
  std::string answer;
  for (size_t i = 0; i < head.size() && Clock::now() < first_byte + 10s; ++i) {
    net::write(slow, net::buffer(&head[i], 1), ec);
    if (ec) break;
    if (i == 2) {
      EXPECT_EQ(Scrape("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").first, 200);
    }
    if (slow.available(ec) > 0) break;  // answered
    std::this_thread::sleep_for(50ms);
  }
  auto took = Clock::now() - first_byte;
  auto [status, text] = Finish(slow, "");
  EXPECT_EQ(status, 408) << text;
  EXPECT_NE(text.find("request header not received in time"), std::string::npos);
  EXPECT_GE(took, kDeadline);
  EXPECT_LT(took, kDeadline + 3s);  // a loaded machine may run the timer late
}

// A scrape whose first bytes arrived is finished; new connections are refused meanwhile.
TEST_F(MetricsServerLimitsTest, DrainFinishesAScrapeInFlightAndRefusesNewOnes) {
  boost::system::error_code ec;
  tcp::socket scrape = Connect(ec);
  ASSERT_FALSE(ec) << ec.message();
  net::write(scrape, net::buffer(std::string("GET /metrics HTTP/1.1\r\n")));
  for (auto until = Clock::now() + 10s; server_->scrapes_in_flight() == 0 && Clock::now() < until;)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server_->scrapes_in_flight(), 1);

  Clock::time_point drain_started = Clock::now();
  auto drained = std::async(std::launch::async, [&] { server_->Drain(Clock::now() + 10s); });
  bool refused = false;
  for (auto until = Clock::now() + 5s; !refused && Clock::now() < until;) {
    tcp::socket probe = Connect(ec);
    refused = static_cast<bool>(ec);
    if (!refused) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused) << "a draining /metrics still accepts connections";
  EXPECT_NE(drained.wait_for(0s), std::future_status::ready) << "the scrape was not waited for";
  auto [status, text] = Finish(scrape, "Host: t\r\n\r\n");
  EXPECT_EQ(status, 200) << text;
  EXPECT_NE(text.find("scrapes_test_total 1"), std::string::npos);
  ASSERT_EQ(drained.wait_for(5s), std::future_status::ready);
  EXPECT_LT(Clock::now() - drain_started, 5s);
}

// A scraper connected and silent is not in flight: it does not hold the drain up.
TEST_F(MetricsServerLimitsTest, DrainDoesNotWaitForASilentConnection) {
  boost::system::error_code ec;
  tcp::socket silent = Connect(ec);
  ASSERT_FALSE(ec) << ec.message();
  Clock::time_point start = Clock::now();
  server_->Drain(Clock::now() + 10s);
  EXPECT_LT(Clock::now() - start, 2s);
}

}  // namespace
}  // namespace penncloud::metrics
