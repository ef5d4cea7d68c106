#include "drive/content_type.h"

#include "gtest/gtest.h"

namespace penncloud::drive {
namespace {

TEST(NormalizeContentType, LowercasesTheTypeAndTidiesParameters) {
  EXPECT_EQ(*NormalizeContentType("image/PNG"), "image/png");
  EXPECT_EQ(*NormalizeContentType("\tText/Plain ;Charset=UTF-8 ;"), "text/plain; charset=UTF-8");
  EXPECT_EQ(*NormalizeContentType("multipart/mixed; boundary=\"a b;c\\\"d\""),
            "multipart/mixed; boundary=\"a b;c\\\"d\"");
  EXPECT_EQ(*NormalizeContentType("application/vnd.ms-excel"), "application/vnd.ms-excel");
}

TEST(NormalizeContentType, RefusesWhatIsNotAMediaType) {
  for (std::string_view bad :
       {"", "text", "/plain", "text/", "text /plain", "text/plain x", "text/plain;=x",
        "text/plain; a", "text/plain; a=", "text/plain; a=\"open", "text/plain; a=b c",
        "text/plain\r\nSet-Cookie: x=1", "text/plain\x7f", "text/pl\xc3\xa4in", "a/b@c"}) {
    auto got = NormalizeContentType(bad);
    ASSERT_FALSE(got.ok()) << bad << " -> " << *got;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(NormalizeContentType(std::string_view("text/plain\0", 11)).ok());
}

TEST(NormalizeContentType, LengthCapTakesItsEdgeAndRefusesOneMore) {
  std::string at_cap = "application/" + std::string(kMaxContentTypeBytes - 12, 'x');
  ASSERT_EQ(at_cap.size(), kMaxContentTypeBytes);
  EXPECT_EQ(*NormalizeContentType(at_cap), at_cap);
  auto over = NormalizeContentType(at_cap + "x");
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("longer than 256 bytes"), std::string::npos);
}

}  // namespace
}  // namespace penncloud::drive
