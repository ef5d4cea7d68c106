#include "http/json_response.h"

#include <string>

#include "gtest/gtest.h"

namespace penncloud::http {
namespace {

// Found by fuzz/http_api_fuzz.cc: "PUT /api/files/content" with a Content-Type holding the
// byte 0x90 stored it with the file, and the JSON answer threw on dump(), which ends the
// frontend process.
TEST(JsonResponseTest, InvalidUtf8IsReplacedNotThrown) {
  Response res;
  ASSERT_NO_THROW(res = JsonResponse(200, {{"content_type", std::string("te\x90xt/plain")}}));
  EXPECT_EQ(res.status, 200);
  auto parsed = nlohmann::json::parse(res.body);
  EXPECT_EQ(parsed["content_type"], "te\xEF\xBF\xBDxt/plain");  // U+FFFD
}

// Compact, as dump() gives it by default: scripts and tests find `"csrf":"` in the text.
TEST(JsonResponseTest, IsCompact) {
  Response res = JsonResponse(200, {{"username", "bob"}, {"admin", false}, {"csrf", "t"}});
  EXPECT_EQ(res.body, R"({"admin":false,"csrf":"t","username":"bob"})");
  EXPECT_EQ(res.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(res.headers.Get("Cache-Control"), "no-store");
}

TEST(JsonResponseTest, ErrorsKeepTheirShape) {
  Response res = ErrorResponse(404, "no \"such\" file\n\xff");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(res.headers.Get("Cache-Control"), "no-store");
  // Escaped, and the broken byte replaced by U+FFFD rather than thrown.
  EXPECT_EQ(res.body, "{\"error\":\"no \\\"such\\\" file\\n\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace penncloud::http
