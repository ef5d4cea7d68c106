#include "http/json_writer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "http/json_response.h"
#include "nlohmann/json.hpp"

namespace penncloud::http {
namespace {

std::string NlohmannDump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Every byte value alone, then texts mixing escapes, multi-byte characters and broken
// UTF-8 (a lone continuation byte, a truncated sequence, an overlong form, a surrogate).
std::vector<std::string> Samples() {
  std::vector<std::string> out;
  for (int c = 0; c < 256; ++c) out.push_back(std::string(1, static_cast<char>(c)));
  out.push_back("");
  out.push_back("alice");
  out.push_back("Y2jTNLDAAqjF8fzfJtg0p3YoWJT_zdZ45VtVXOkxz-8");
  out.push_back("quote \" backslash \\ slash / tab \t newline \n del \x7f end");
  out.push_back(std::string("nul \0 inside", 12));
  out.push_back("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  out.push_back("lone \x80 continuation");
  out.push_back("truncated \xe2\x82");
  out.push_back("overlong \xc0\xaf");
  out.push_back("surrogate \xed\xa0\x80 then \"quote\"");
  return out;
}

TEST(JsonWriterTest, StringsAreWhatNlohmannWrites) {
  for (const std::string& s : Samples()) {
    std::string mine;
    AppendJsonString(mine, s);
    EXPECT_EQ(mine, NlohmannDump(s)) << "for " << NlohmannDump(s);
    // Whatever went in, the text parses back.
    EXPECT_TRUE(nlohmann::json::accept(mine)) << mine;
  }
}

TEST(JsonWriterTest, ObjectsAreWhatNlohmannWritesForTheSameOrder) {
  std::string mine = JsonObjectWriter()
                         .Bool("admin", false)
                         .Int("count", -42)
                         .String("csrf", "t0k\"en")
                         .String("email", "bob@penncloud.local")
                         .Bool("ok", true)
                         .String("user",
                                 "b\xc3\xb6"
                                 "b")
                         .Finish();
  nlohmann::json same = {{"admin", false},
                         {"csrf", "t0k\"en"},
                         {"count", -42},
                         {"email", "bob@penncloud.local"},
                         {"ok", true},
                         {"user",
                          "b\xc3\xb6"
                          "b"}};
  EXPECT_EQ(mine, NlohmannDump(same));
  EXPECT_EQ(JsonObjectWriter().Finish(), "{}");
}

TEST(JsonWriterTest, ErrorResponsesKeepTheirShape) {
  Response res = ErrorResponse(404, "no \"such\" file \xff");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(res.headers.Get("Cache-Control"), "no-store");
  EXPECT_EQ(res.body, NlohmannDump({{"error", "no \"such\" file \xff"}}));
}

}  // namespace
}  // namespace penncloud::http
