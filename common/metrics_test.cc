#include "common/metrics.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>
#include <vector>

#include "http/metrics_server.h"

namespace penncloud::metrics {
namespace {

TEST(MetricsTest, CounterAndGaugeExposition) {
  Registry r;
  auto& c = r.Counter("app_requests_total", "Requests\\served\nhere", {"route", "status"});
  c.With({"/a\"b", "200"}).Inc();
  c.With({"/a\"b", "200"}).Inc(2);
  c.With({"x\\y\nz", "500"}).Inc();
  r.Gauge("app_up", "Up").With().Set(1.5);
  EXPECT_EQ(r.Expose(),
            "# HELP app_requests_total Requests\\\\served\\nhere\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{route=\"/a\\\"b\",status=\"200\"} 3\n"
            "app_requests_total{route=\"x\\\\y\\nz\",status=\"500\"} 1\n"
            "# HELP app_up Up\n"
            "# TYPE app_up gauge\n"
            "app_up 1.5\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.Histogram("lat_seconds", "Latency", {"m"}, {0.1, 1});
  h.With({"get"}).Observe(0.05);
  h.With({"get"}).Observe(0.5);
  h.With({"get"}).Observe(7);
  EXPECT_EQ(r.Expose(),
            "# HELP lat_seconds Latency\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{m=\"get\",le=\"0.1\"} 1\n"
            "lat_seconds_bucket{m=\"get\",le=\"1\"} 2\n"
            "lat_seconds_bucket{m=\"get\",le=\"+Inf\"} 3\n"
            "lat_seconds_sum{m=\"get\"} 7.55\n"
            "lat_seconds_count{m=\"get\"} 3\n");
}

TEST(MetricsTest, QuantileOverAWindow) {
  std::vector<double> bounds = {0.01, 0.1, 1};
  HistogramCell cell(&bounds);
  for (int i = 0; i < 100; ++i) cell.Observe(0.5);  // before the window
  auto before = cell.Take();
  for (int i = 0; i < 99; ++i) cell.Observe(0.005);
  cell.Observe(0.05);
  auto now = cell.Take();
  // 99 of the window's 100 are in the first bucket: p99 sits at its top edge.
  EXPECT_NEAR(Quantile(bounds, before, now, 0.99), 0.01, 1e-9);
  EXPECT_NEAR(Quantile(bounds, before, now, 1.0), 0.1, 1e-9);
  EXPECT_EQ(Quantile(bounds, now, now, 0.99), 0);  // nothing observed
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  auto& c = r.Counter("hits_total", "Hits", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 20000; ++i) c.With({std::to_string(t % 2)}).Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.With({"0"}).Value() + c.With({"1"}).Value(), 80000u);
}

TEST(MetricsTest, SameNameGivesSameFamily) {
  Registry r;
  EXPECT_EQ(&r.Counter("a_total", "A"), &r.Counter("a_total", "A"));
}

std::pair<int, std::string> Get(uint16_t port, const std::string& target,
                                boost::beast::http::verb verb = boost::beast::http::verb::get) {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {res.result_int(), res[http::field::content_type].to_string() + "\n" + res.body()};
}

TEST(MetricsServerTest, ServesOnlyMetrics) {
  Registry r;
  r.Counter("served_total", "Served").With().Inc(5);
  auto server = MetricsServer::Start("127.0.0.1:0", &r);
  ASSERT_TRUE(server.ok()) << server.status();
  uint16_t port = (*server)->port();
  auto [status, body] = Get(port, "/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, std::string(kContentType) +
                      "\n# HELP served_total Served\n"
                      "# TYPE served_total counter\nserved_total 5\n");
  EXPECT_EQ(Get(port, "/").first, 404);
  EXPECT_EQ(Get(port, "/metrics", boost::beast::http::verb::post).first, 405);
}

TEST(MetricsServerTest, BadAddressIsAnError) {
  EXPECT_FALSE(MetricsServer::Start("nonsense").ok());
  EXPECT_FALSE(MetricsServer::Start("127.0.0.1:99999").ok());
  EXPECT_FALSE(MetricsServer::Start("not-an-ip:1").ok());
}

}  // namespace
}  // namespace penncloud::metrics
