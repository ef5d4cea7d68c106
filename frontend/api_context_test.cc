#include "frontend/api_context.h"

#include <string>

#include "gtest/gtest.h"

namespace penncloud::frontend {
namespace {

// A JSON object whose member "a" holds `levels - 1` nested arrays: `levels` in all.
std::string Nested(int levels) {
  std::string body = "{\"a\":";
  body.append(levels - 1, '[');
  body.append(levels - 1, ']');
  return body + "}";
}

TEST(ParseJsonBodyTest, NestingUpToTheLimitParses) {
  Request req;
  req.body = Nested(kMaxJsonDepth);
  EXPECT_TRUE(ParseJsonBody(req).ok());
}

TEST(ParseJsonBodyTest, NestingJustOverTheLimitIsRefused) {
  Request req;
  req.body = Nested(kMaxJsonDepth + 1);
  auto parsed = ParseJsonBody(req);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("deeper"), absl::string_view::npos);
  // A megabyte of '[' is refused the same way, without building it.
  req.body = "{\"a\":" + std::string(1 << 20, '[');
  EXPECT_EQ(ParseJsonBody(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseJsonBodyTest, NotAnObjectIsRefused) {
  Request req;
  for (const char* body : {"", "[]", "1", "{\"a\":", "{\"a\":1} x"}) {
    req.body = body;
    EXPECT_EQ(ParseJsonBody(req).status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

TEST(ApiContext, StatusMapping) {
  EXPECT_EQ(FromStatus(absl::AlreadyExistsError("taken")).status, 409);
  EXPECT_EQ(FromStatus(absl::AlreadyExistsError("taken")).body, R"({"error":"taken"})");
  EXPECT_EQ(FromStatus(absl::UnauthenticatedError("x")).status, 401);
  EXPECT_EQ(FromStatus(absl::UnavailableError("x")).status, 503);
  EXPECT_EQ(FromStatus(absl::InternalError("secret detail")).body, R"({"error":"internal error"})");
}

}  // namespace
}  // namespace penncloud::frontend
