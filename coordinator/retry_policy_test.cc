#include "coordinator/retry_policy.h"

#include "gtest/gtest.h"

namespace penncloud::coordinator {
namespace {

namespace http = boost::beast::http;

TEST(SafeToRepeatTest, ReadsOnly) {
  for (auto verb : {http::verb::get, http::verb::head, http::verb::options, http::verb::propfind,
                    http::verb::trace}) {
    auto name = http::to_string(verb);
    EXPECT_TRUE(SafeToRepeat(verb, std::string_view(name.data(), name.size()))) << name;
  }
  EXPECT_TRUE(SafeToRepeat(http::verb::unknown, "REPORT"));
  // Writes, idempotent or not: a late copy could overwrite what the client wrote after.
  for (auto verb : {http::verb::post, http::verb::put, http::verb::delete_, http::verb::patch,
                    http::verb::mkcol, http::verb::move, http::verb::copy, http::verb::lock,
                    http::verb::unlock}) {
    auto name = http::to_string(verb);
    EXPECT_FALSE(SafeToRepeat(verb, std::string_view(name.data(), name.size()))) << name;
  }
  EXPECT_FALSE(SafeToRepeat(http::verb::unknown, "PROPPATCH"));
}

TEST(RetryPolicyTest, RefusedConnectionIsRetriedWhateverTheMethod) {
  RetryVerdict v = Decide({.connect = true, .safe_method = false, .attempts = 1});
  EXPECT_TRUE(v.retry);
  EXPECT_FALSE(v.free_attempt);
  EXPECT_TRUE(v.suspect);
}

TEST(RetryPolicyTest, RequestCutBeforeItWasWholeIsRetriedWhateverTheMethod) {
  RetryVerdict v = Decide({.request_written = false, .safe_method = false, .attempts = 1});
  EXPECT_TRUE(v.retry);
  EXPECT_TRUE(v.suspect);
}

TEST(RetryPolicyTest, PostThatReachedTheFrontendIsNotRepeated) {
  RetryVerdict v = Decide({.request_written = true, .safe_method = false, .attempts = 1});
  EXPECT_FALSE(v.retry);
  EXPECT_TRUE(v.suspect);
}

TEST(RetryPolicyTest, SafeMethodThatReachedTheFrontendIsRepeated) {
  EXPECT_TRUE(Decide({.request_written = true, .safe_method = true, .attempts = 2}).retry);
}

TEST(RetryPolicyTest, AttemptsAreBounded) {
  EXPECT_FALSE(Decide({.connect = true, .attempts = 3, .max_attempts = 3}).retry);
  EXPECT_FALSE(Decide({.request_written = true, .safe_method = true, .attempts = 3}).retry);
}

TEST(RetryPolicyTest, UploadWhoseBodyWasReadIsNeverRepeated) {
  RetryVerdict v =
      Decide({.request_written = false, .body_held = false, .safe_method = true, .attempts = 1});
  EXPECT_FALSE(v.retry);
  EXPECT_FALSE(Decide({.connect = true, .body_held = false, .attempts = 1}).retry);
}

TEST(RetryPolicyTest, StalePooledConnectionIsAFreeRetryAndNoSuspicion) {
  RetryVerdict v = Decide({.request_written = false, .reused = true, .attempts = 3});
  EXPECT_TRUE(v.retry);
  EXPECT_TRUE(v.free_attempt);
  EXPECT_FALSE(v.suspect);
  // Reused but the frontend was already marked down: that is the frontend's failure.
  v = Decide({.request_written = false, .reused = true, .abandoned = true, .attempts = 1});
  EXPECT_TRUE(v.retry);
  EXPECT_FALSE(v.free_attempt);
  EXPECT_TRUE(v.suspect);
  // A POST written on a reused connection may have been read: not repeated.
  EXPECT_FALSE(Decide({.request_written = true, .reused = true, .attempts = 1}).retry);
}

}  // namespace
}  // namespace penncloud::coordinator
