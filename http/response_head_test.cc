#include "http/response_head.h"

#include "gtest/gtest.h"

namespace penncloud::http {
namespace {

Response WithFields(int status, std::vector<std::pair<std::string, std::string>> fields) {
  Response res;
  res.status = status;
  for (auto& [name, value] : fields) res.headers.Add(std::move(name), std::move(value));
  return res;
}

TEST(ResponseHead, StatusLineFieldsInOrderAndLength) {
  std::string out;
  WriteResponseHead(WithFields(200, {{"Content-Type", "text/html"}, {"X-Frame-Options", "DENY"}}),
                    {.version = 11, .keep_alive = true, .length = 1986}, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Frame-Options: DENY\r\n"
            "Content-Length: 1986\r\n\r\n");
}

TEST(ResponseHead, TheServerFramesWhateverTheHandlerSaid) {
  std::string out;
  WriteResponseHead(WithFields(404, {{"content-length", "7"},
                                     {"Transfer-Encoding", "chunked"},
                                     {"CONNECTION", "keep-alive"},
                                     {"Cache-Control", "no-store"}}),
                    {.version = 11, .keep_alive = false, .length = 21}, out);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\nCache-Control: no-store\r\nContent-Length: 21\r\n"
            "Connection: close\r\n\r\n");
}

TEST(ResponseHead, Http10KeepsAliveOnlyWhenSaid) {
  std::string out;
  WriteResponseHead(WithFields(204, {}), {.version = 10, .keep_alive = true, .length = 0}, out);
  EXPECT_EQ(out, "HTTP/1.0 204 No Content\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  WriteResponseHead(WithFields(503, {}), {.version = 10, .keep_alive = false, .length = 2}, out);
  EXPECT_EQ(out, "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n");
}

TEST(ResponseHead, TheDateGoesBeforeTheFraming) {
  std::string out;
  WriteResponseHead(WithFields(200, {{"Content-Type", "text/plain"}}),
                    {.length = 2, .date = "Mon, 07 Dec 2026 08:00:00 GMT"}, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Mon, 07 Dec 2026 08:00:00 GMT\r\n"
            "Content-Length: 2\r\n\r\n");
}

TEST(ResponseHead, UnregisteredStatusesHaveTusOrNoReason) {
  std::string out;
  WriteResponseHead(WithFields(460, {}), {.length = 0}, out);
  EXPECT_EQ(out, "HTTP/1.1 460 Checksum Mismatch\r\nContent-Length: 0\r\n\r\n");
  WriteResponseHead(WithFields(470, {}), {.length = 0}, out);
  EXPECT_EQ(out, "HTTP/1.1 470 \r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseHead, ReusedStringIsRewrittenNotAppended) {
  std::string out = "left over from before";
  WriteResponseHead(WithFields(507, {}), {.length = 0}, out);
  EXPECT_EQ(out, "HTTP/1.1 507 Insufficient Storage\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace
}  // namespace penncloud::http
