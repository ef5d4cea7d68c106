// HeadReader on real loopback sockets: the deadline runs from a head's first byte, cuts a
// trickled head off with kLate near the deadline, and leaves an idle connection alone.
#include "http/head_reader.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace penncloud::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = 300ms;

// One server-side connection on loopback, and a blocking client socket to it.
class HeadReaderTest : public ::testing::Test {
 protected:
  HeadReaderTest() {
    server_.expires_after(10s);  // the idle timeout, which the deadline must not depend on
  }

  tcp::socket ConnectAndAccept() {
    client_.connect(acceptor_.local_endpoint());
    return acceptor_.accept();
  }

  // Reads one head and runs the io_context until it is read (at most 10 s).
  std::optional<HeadOutcome> ReadHead(bhttp::request_parser<bhttp::empty_body>& parser) {
    std::optional<HeadOutcome> outcome;
    reader_.Read(parser, {.field_limit = 1000, .deadline = kDeadline}, owner_,
                 [&outcome](HeadOutcome o) { outcome = o; });
    ioc_.restart();
    for (auto until = Clock::now() + 10s; !outcome && Clock::now() < until;) {
      ioc_.run_one_for(100ms);
    }
    return outcome;
  }

  void Send(const std::string& bytes) { net::write(client_, net::buffer(bytes)); }

  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, {net::ip::make_address("127.0.0.1"), 0}};
  tcp::socket client_{ioc_};
  beast::tcp_stream server_{ConnectAndAccept()};
  beast::flat_buffer buffer_;
  HeadReader<beast::tcp_stream> reader_{server_, server_, buffer_};
  std::shared_ptr<void> owner_ = std::make_shared<int>(0);
};

TEST_F(HeadReaderTest, ATrickledHeadIsCutOffNearTheDeadline) {
  std::atomic<bool> stop{false};
  Clock::time_point first_byte = Clock::now();
  std::thread trickler([&] {
    const std::string head = "GET /x HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(200, 's');
    for (size_t i = 0; i < head.size() && !stop; ++i) {
      boost::system::error_code ec;
      net::write(client_, net::buffer(&head[i], 1), ec);
      if (ec) return;
      std::this_thread::sleep_for(50ms);
    }
  });
  bhttp::request_parser<bhttp::empty_body> parser;
  std::optional<HeadOutcome> outcome = ReadHead(parser);
  auto took = Clock::now() - first_byte;
  stop = true;
  trickler.join();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, HeadOutcome::kLate);
  EXPECT_GE(took, kDeadline);
  EXPECT_LT(took, kDeadline + 2s);  // a loaded machine may run the timer late
}

// The wait for a head's first byte is the idle timeout's: a keep-alive connection quiet
// for longer than the deadline then sends a head, which is read.
TEST_F(HeadReaderTest, TheDeadlineStartsAtTheFirstByte) {
  std::thread later([&] {
    std::this_thread::sleep_for(kDeadline + 200ms);
    Send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
  });
  bhttp::request_parser<bhttp::empty_body> parser;
  std::optional<HeadOutcome> outcome = ReadHead(parser);
  later.join();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, HeadOutcome::kRead);
  EXPECT_EQ(parser.get().target(), "/x");
}

// Two heads in one write: the second is read from what the first read left in the buffer.
TEST_F(HeadReaderTest, PipelinedHeadsAreReadInTurn) {
  Send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n");
  bhttp::request_parser<bhttp::empty_body> first;
  ASSERT_EQ(ReadHead(first), HeadOutcome::kRead);
  EXPECT_EQ(first.get().target(), "/a");
  bhttp::request_parser<bhttp::empty_body> second;
  ASSERT_EQ(ReadHead(second), HeadOutcome::kRead);
  EXPECT_EQ(second.get().target(), "/b");
}

TEST_F(HeadReaderTest, AClientThatLeavesIsClosed) {
  Send("GET /x HTTP/1.1\r\n");
  client_.close();
  bhttp::request_parser<bhttp::empty_body> parser;
  EXPECT_EQ(ReadHead(parser), HeadOutcome::kClosed);
}

}  // namespace
}  // namespace penncloud::http
