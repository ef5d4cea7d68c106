#include "coordinator/proxy_heads.h"

#include <boost/beast/http.hpp>

#include "gtest/gtest.h"

namespace penncloud::coordinator {
namespace {

namespace http = boost::beast::http;

TEST(ProxyHeadsTest, RequestHeadDropsHopByHopAndClientsForwardingHeaders) {
  http::request<http::empty_body> in{http::verb::post, "/api/login", 11};
  in.set(http::field::host, "example.org");
  in.set(http::field::connection, "keep-alive");
  in.set(http::field::expect, "100-continue");
  in.set("X-Forwarded-For", "6.6.6.6");
  in.set("x-request-id", "forged");
  std::string out;
  WriteRequestHead(in.base(), {.request_id = "r-1", .peer = "10.0.0.1", .tls = true}, 3, out);
  EXPECT_EQ(out,
            "POST /api/login HTTP/1.1\r\nHost: example.org\r\nX-Request-Id: r-1\r\n"
            "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nContent-Length: 3\r\n\r\n");
}

TEST(ProxyHeadsTest, TheProxysSendTimeReplacesTheClients) {
  http::request<http::empty_body> in{http::verb::put, "/f", 11};
  in.set("x-penncloud-sent-ms", "1");  // would take the whole budget away
  std::string out;
  WriteRequestHead(in.base(), {.request_id = "r", .peer = "p", .sent_ms = 1765000000123}, 0, out);
  EXPECT_EQ(out,
            "PUT /f HTTP/1.1\r\nX-Request-Id: r\r\nX-Forwarded-For: p\r\n"
            "X-Forwarded-Proto: http\r\nX-PennCloud-Sent-Ms: 1765000000123\r\n"
            "Content-Length: 0\r\n\r\n");
  http::request_header<> streamed;
  CopyRequestHead(in.base(), {.request_id = "r", .peer = "p", .sent_ms = 42}, streamed);
  EXPECT_EQ(streamed["X-PennCloud-Sent-Ms"], "42");
  EXPECT_EQ(streamed.count("X-PennCloud-Sent-Ms"), 1u) << "the client's copy is gone";
}

TEST(ProxyHeadsTest, StreamedRequestHeadCarriesTheSameRules) {
  http::request<http::empty_body> in{http::verb::put, "/f", 10};
  in.set("X-Forwarded-Proto", "https");
  in.set("X-Custom", "kept");
  http::request_header<> out;
  CopyRequestHead(in.base(), {.request_id = "r", .peer = "p", .tls = false}, out);
  EXPECT_EQ(out.version(), 11u);
  EXPECT_EQ(out["X-Forwarded-Proto"], "http");
  EXPECT_EQ(out["X-Custom"], "kept");
}

TEST(ProxyHeadsTest, ResponseHeadFramesTheBodyForTheClient) {
  http::response<http::empty_body> in{http::status::ok, 11};
  in.set(http::field::transfer_encoding, "chunked");
  in.set(http::field::strict_transport_security, "max-age=1");
  in.set("X-Request-Id", "theirs");
  in.set(http::field::content_type, "text/plain");
  std::string out;
  WriteResponseHead(in.base(),
                    {.version = 11,
                     .chunked = true,
                     .keep_alive = false,
                     .request_id = "ours",
                     .hsts = "max-age=9"},
                    out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: ours\r\n"
            "Strict-Transport-Security: max-age=9\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n");
  WriteResponseHead(in.base(), {.version = 10, .length = 5, .request_id = "r"}, out);
  EXPECT_EQ(out,
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: r\r\n"
            "Content-Length: 5\r\nConnection: keep-alive\r\n\r\n");
}

TEST(ProxyHeadsTest, EventStreamsAreRecognisedWithParameters) {
  EXPECT_TRUE(IsEventStream("text/event-stream"));
  EXPECT_TRUE(IsEventStream("Text/Event-Stream; charset=utf-8"));
  EXPECT_FALSE(IsEventStream("text/event-streams"));
  EXPECT_FALSE(IsEventStream("application/json"));
  EXPECT_FALSE(IsEventStream(""));
}

TEST(ProxyHeadsTest, RequestIdsAndHostsMustBePlain) {
  EXPECT_TRUE(UsableRequestId("abc-123_x.y"));
  EXPECT_FALSE(UsableRequestId(""));
  EXPECT_FALSE(UsableRequestId(std::string(65, 'a')));
  EXPECT_FALSE(UsableRequestId("a b"));
  EXPECT_EQ(HostWithoutPort("example.org:8000"), "example.org");
  EXPECT_EQ(HostWithoutPort("[::1]:8000"), "[::1]");
  EXPECT_EQ(HostWithoutPort("[::1]"), "[::1]");
  EXPECT_EQ(HostWithoutPort("evil.org/\r\nX:"), "");
}

}  // namespace
}  // namespace penncloud::coordinator
