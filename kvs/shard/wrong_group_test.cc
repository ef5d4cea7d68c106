#include "kvs/shard/wrong_group.h"

#include "gtest/gtest.h"

namespace penncloud::kvs::shard {
namespace {

TEST(WrongGroupTest, RoundTripsTheMapVersion) {
  EXPECT_EQ(ParseWrongGroup(WrongGroupError(7)), 7u);
  EXPECT_EQ(ParseWrongGroup(WrongGroupError(18446744073709551615ULL, "group 2")),
            18446744073709551615ULL);
  absl::Status status = WrongGroupError(12, "group 3 does not serve it");
  EXPECT_TRUE(absl::IsFailedPrecondition(status));
  EXPECT_EQ(status.message(), "wrong group; map version 12; group 3 does not serve it");
}

TEST(WrongGroupTest, OtherErrorsAreNotWrongGroup) {
  EXPECT_FALSE(ParseWrongGroup(absl::OkStatus()).has_value());
  EXPECT_FALSE(ParseWrongGroup(absl::UnavailableError("wrong group; map version 3")).has_value());
  EXPECT_FALSE(ParseWrongGroup(absl::FailedPreconditionError("range frozen")).has_value());
  EXPECT_FALSE(
      ParseWrongGroup(absl::FailedPreconditionError("wrong group; map version x")).has_value());
}

}  // namespace
}  // namespace penncloud::kvs::shard
