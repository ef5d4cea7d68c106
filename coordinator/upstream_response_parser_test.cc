#include "coordinator/upstream_response_parser.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "gtest/gtest.h"

namespace penncloud::coordinator {
namespace {

namespace http = boost::beast::http;

// Feeds `bytes` to the parser in pieces of `step`, with a body buffer of `room` bytes that
// is emptied into the result whenever it is full or the parser asks for more room.
std::string Parse(UpstreamResponseParser& parser, std::string_view bytes, size_t step,
                  size_t room) {
  parser.eager(true);
  std::string body, pending;
  std::string buffer(room, '\0');
  auto empty_buffer = [&] {
    body.append(buffer.data(), room - parser.body().size);
    parser.body() = {buffer.data(), room};
  };
  parser.body() = {buffer.data(), room};
  size_t at = 0;
  for (int round = 0; round < 10000 && !parser.is_done(); ++round) {
    if (at < bytes.size()) {
      pending.append(bytes.substr(at, step));
      at += step;
    }
    boost::beast::error_code ec;
    pending.erase(0, parser.put(boost::asio::buffer(pending), ec));
    if (ec == http::error::need_buffer || parser.body().size == 0) {
      empty_buffer();
    } else if (ec && ec != http::error::need_more) {
      ADD_FAILURE() << ec.message();
      break;
    }
  }
  empty_buffer();
  return body;
}

TEST(UpstreamResponseParserTest, KeepsTheClientsFieldsAndDecodesAChunkedBody) {
  std::string fields = "left from the last answer";
  const std::string answer =
      "HTTP/1.1 201 Created\r\nContent-Type: text/html; charset=utf-8\r\n"
      "Transfer-Encoding: chunked\r\nStrict-Transport-Security: max-age=1\r\n"
      "X-Request-Id: theirs\r\nConnection: keep-alive\r\nX-Frame-Options: DENY\r\n\r\n"
      "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  for (size_t step : {answer.size(), size_t{1}, size_t{7}}) {
    UpstreamResponseParser p(fields);
    EXPECT_EQ(Parse(p, answer, step, 3), "hello, world") << "step " << step;
    EXPECT_TRUE(p.is_done());
    EXPECT_EQ(p.status(), 201);
    EXPECT_TRUE(p.keep_alive());
    EXPECT_TRUE(p.chunked());
    EXPECT_EQ(p.client_fields(),
              "Content-Type: text/html; charset=utf-8\r\nX-Frame-Options: DENY\r\n");
    EXPECT_EQ(p.content_type(), "text/html; charset=utf-8");
    EXPECT_EQ(p.content_length_field(), "");
  }
}

TEST(UpstreamResponseParserTest, ALengthDelimitedBodyAndAHeadAnswer) {
  std::string fields;
  UpstreamResponseParser parser(fields);
  EXPECT_EQ(
      Parse(parser, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd", 5, 2),
      "abcd");
  EXPECT_TRUE(parser.is_done());
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_EQ(parser.content_length().value_or(0), 4u);
  EXPECT_EQ(parser.content_length_field(), "4");
  EXPECT_EQ(parser.client_fields(), "");
  EXPECT_EQ(parser.content_type(), "");

  UpstreamResponseParser head(fields);
  head.skip(true);  // the answer to a HEAD: the length, no body
  EXPECT_EQ(Parse(head, "HTTP/1.1 200 OK\r\nContent-Length: 1986\r\nX-A: b\r\n\r\n", 100, 8), "");
  EXPECT_TRUE(head.is_done());
  EXPECT_EQ(head.content_length_field(), "1986");
  EXPECT_EQ(head.client_fields(), "X-A: b\r\n");
}

TEST(UpstreamResponseParserTest, WhatIsNotHttpIsRefused) {
  std::string fields;
  UpstreamResponseParser parser(fields);
  boost::beast::error_code ec;
  std::string_view junk = "HTTP/1.1 200 OK\r\nBad Field\r\n\r\n";
  parser.put(boost::asio::buffer(junk.data(), junk.size()), ec);
  EXPECT_TRUE(ec && ec != http::error::need_more);
}

}  // namespace
}  // namespace penncloud::coordinator
