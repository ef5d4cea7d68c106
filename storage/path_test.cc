#include "storage/path.h"

#include <gtest/gtest.h>

namespace penncloud::storage {
namespace {

TEST(ValidateName, AcceptsOrdinaryAndUnicodeNames) {
  EXPECT_TRUE(ValidateName("report.pdf").ok());
  EXPECT_TRUE(ValidateName("with space & 'quotes'").ok());
  EXPECT_TRUE(ValidateName("caf\xc3\xa9 \xf0\x9f\x98\x80").ok());
  EXPECT_TRUE(ValidateName("...").ok());
  EXPECT_TRUE(ValidateName(std::string(kMaxNameBytes, 'a')).ok());
}

TEST(ValidateName, RejectsEachBadForm) {
  EXPECT_EQ(ValidateName("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName(".").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName("..").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName("a/b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName("tab\there").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName(std::string("nul\0x", 5)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName("del\x7f").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName(std::string(kMaxNameBytes + 1, 'a')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName("bad\xff").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName("overlong\xc0\xaf").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName("surrogate\xed\xa0\x80").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ValidateName("..").message().find(".."), std::string::npos);
}

TEST(SplitPath, NormalisesSlashes) {
  EXPECT_EQ(*SplitPath("/"), std::vector<std::string>{});
  EXPECT_EQ(*SplitPath(""), std::vector<std::string>{});
  EXPECT_EQ(*SplitPath("/a//b/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(JoinPath(*SplitPath("/a//b/")), "/a/b");
  EXPECT_EQ(JoinPath({}), "/");
}

TEST(SplitPath, RejectsTraversalAndRelativePaths) {
  EXPECT_EQ(SplitPath("/a/../b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitPath("/..").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitPath("/./a").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitPath("a/b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitPath("/a\nb").status().code(), absl::StatusCode::kInvalidArgument);
  std::string deep;
  for (size_t i = 0; i <= kMaxDepth; ++i) deep += "/d";
  EXPECT_EQ(SplitPath(deep).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitPath("/" + std::string(kMaxPathBytes, 'a')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ValidateUser, RejectsSlashesSoRowsCannotCross) {
  EXPECT_TRUE(ValidateUser("alice").ok());
  EXPECT_FALSE(ValidateUser("").ok());
  EXPECT_FALSE(ValidateUser("alice/tree").ok());
  EXPECT_FALSE(ValidateUser("a b").ok());
}

}  // namespace
}  // namespace penncloud::storage
