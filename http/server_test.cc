// The server on loopback: a route's fast path answers from another thread while the only
// worker is held, and one that declines is answered by its handler on a worker.
#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace penncloud::http {
namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// One request on a connection of its own; the answer's status and body.
std::pair<int, std::string> Get(uint16_t port, const std::string& target) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  bhttp::request<bhttp::empty_body> request(bhttp::verb::get, target, 11);
  request.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(socket, request);
  boost::beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> response;
  bhttp::read(socket, buffer, response);
  return {response.result_int(), response.body()};
}

Response Text(std::string body) {
  Response res;
  res.body = std::move(body);
  return res;
}

class FastPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/hold", [this](Request&) {
      holding_.set_value();
      released_.wait();
      return Text("held");
    });
    // Answered later, from a thread of the test's (as the store client's would).
    router_.AddWithFastPath(
        "GET", "/fast",
        [this](Request&, Respond respond) {
          std::lock_guard lock(mu_);
          answerers_.emplace_back([respond] { respond(Text("fast")); });
        },
        [](Request&) { return Text("handler"); });
    router_.AddWithFastPath(
        "GET", "/declined", [](Request&, Respond respond) { respond(std::nullopt); },
        [](Request&) { return Text("handler"); });
    server_ = std::make_unique<Server>(&router_, ServerOptions{.io_threads = 1, .workers = 1});
    absl::StatusOr<uint16_t> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    run_ = std::thread([this] { server_->Run(); });
  }

  void TearDown() override {
    server_->Stop(1000);
    run_.join();
    std::lock_guard lock(mu_);
    for (std::thread& t : answerers_) t.join();
  }

  Router router_;
  std::promise<void> holding_;
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::mutex mu_;
  std::vector<std::thread> answerers_;  // GUARDED_BY(mu_)
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::thread run_;
};

TEST_F(FastPathTest, AnswersWithoutAWorkerAndDeclinesToTheHandler) {
  auto held = std::async(std::launch::async, [this] { return Get(port_, "/hold"); });
  holding_.get_future().wait();  // the only worker is busy from now on

  EXPECT_EQ(Get(port_, "/fast"), std::make_pair(200, std::string("fast")));
  EXPECT_EQ(Get(port_, "/fast"), std::make_pair(200, std::string("fast")));

  // Declined: it waits for the worker like any handler.
  auto declined = std::async(std::launch::async, [this] { return Get(port_, "/declined"); });
  EXPECT_EQ(declined.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  release_.set_value();
  EXPECT_EQ(held.get(), std::make_pair(200, std::string("held")));
  EXPECT_EQ(declined.get(), std::make_pair(200, std::string("handler")));
}

TEST_F(FastPathTest, DispatchTriesTheFastPathFirst) {
  release_.set_value();
  Request fast;
  fast.method = "GET";
  fast.target = "/fast";
  ParseTarget(fast);
  EXPECT_EQ(router_.Dispatch(fast).body, "fast");
  Request declined;
  declined.method = "GET";
  declined.target = "/declined";
  ParseTarget(declined);
  EXPECT_EQ(router_.Dispatch(declined).body, "handler");
}

}  // namespace
}  // namespace penncloud::http
