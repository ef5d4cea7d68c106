#include "http/http_date.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace penncloud::http {
namespace {

TEST(HttpDate, IsAnImfFixdateInGmt) {
  EXPECT_EQ(FormatHttpDate(absl::FromUnixSeconds(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(absl::FromUnixMillis(1796630400999)), "Mon, 07 Dec 2026 08:00:00 GMT");
}

TEST(HttpDate, NowIsTodaysSecond) {
  const absl::Time before = absl::Now();
  const std::string now(HttpDateNow());
  const absl::Time after = absl::Now();
  absl::Time parsed;
  std::string error;
  ASSERT_TRUE(
      absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", now, absl::UTCTimeZone(), &parsed, &error))
      << now << ": " << error;
  EXPECT_GE(parsed, absl::FromUnixSeconds(absl::ToUnixSeconds(before)));
  EXPECT_LE(parsed, after);
}

}  // namespace
}  // namespace penncloud::http
