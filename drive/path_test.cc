#include "drive/path.h"

#include <gtest/gtest.h>

namespace penncloud::drive {
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

// The UTF-8 encoding of one code point.
std::string Utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Names that display as something else: "invoice<U+202E>fdp.exe" shows as "invoiceexe.pdf".
TEST(ValidateName, RejectsFormatAndBidiCharacters) {
  for (char32_t cp : {
           0x202E,   // RIGHT-TO-LEFT OVERRIDE
           0x202A,   // LEFT-TO-RIGHT EMBEDDING
           0x2066,   // LEFT-TO-RIGHT ISOLATE
           0x200F,   // RIGHT-TO-LEFT MARK
           0x200B,   // ZERO WIDTH SPACE
           0x200D,   // ZERO WIDTH JOINER
           0xFEFF,   // ZERO WIDTH NO-BREAK SPACE
           0x00AD,   // SOFT HYPHEN
           0x061C,   // ARABIC LETTER MARK
           0x0085,   // NEXT LINE (a C1 control)
           0x2028,   // LINE SEPARATOR
           0xE0001,  // LANGUAGE TAG
       }) {
    std::string name = "invoice" + Utf8(cp) + "fdp.exe";
    EXPECT_EQ(ValidateName(name).code(), absl::StatusCode::kInvalidArgument)
        << "U+" << std::hex << static_cast<uint32_t>(cp);
  }
  const std::string spoof = "invoice" + Utf8(0x202E) + "fdp.exe";
  EXPECT_NE(ValidateName(spoof).message().find("U+202E"), std::string::npos)
      << ValidateName(spoof).message();
  EXPECT_FALSE(SplitPath("/docs/" + spoof).ok());
  // Right-to-left scripts themselves are fine: only the invisible controls are refused.
  EXPECT_TRUE(
      ValidateName(Utf8(0x05E9) + Utf8(0x05DC) + Utf8(0x05D5) + Utf8(0x05DD) + ".txt").ok());
  EXPECT_TRUE(ValidateName(Utf8(0x0645) + Utf8(0x0644) + Utf8(0x0641) + ".pdf").ok());
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
}  // namespace penncloud::drive
