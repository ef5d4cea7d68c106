#include "mail/search_tokenizer.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"

namespace penncloud::mail {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

TEST(SearchTokenizer, SplitsOnPunctuationAndFoldsCase) {
  EXPECT_THAT(Words("Hello, WORLD! It's 2026.", 100),
              ElementsAre("hello", "world", "it's", "2026"));
}

TEST(SearchTokenizer, FoldsBeyondAscii) {
  // Full case folding (ß -> ss), compatibility forms (full-width letters), accents kept.
  EXPECT_THAT(Words("Straße STRASSE", 10), ElementsAre("strasse", "strasse"));
  EXPECT_THAT(Words("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", 10), ElementsAre("abc"));  // ＡＢＣ
  EXPECT_THAT(Words("\xc3\x89t\xc3\xa9", 10), ElementsAre("\xc3\xa9t\xc3\xa9"));       // Été
  EXPECT_THAT(Words("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91", 10),                   // ΣΟΦΙΑ
              ElementsAre("\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1"));
}

// ASCII words skip ICU's normalizer: its NFKC case folding of each ASCII character must be
// the character's lower case, or the shortcut would index words a query never finds.
TEST(SearchTokenizer, AsciiFoldingIsIcusNfkcCaseFolding) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* folder = icu::Normalizer2::getNFKCCasefoldInstance(status);
  ASSERT_TRUE(U_SUCCESS(status));
  for (char16_t c = 1; c < 0x80; ++c) {
    icu::UnicodeString folded = folder->normalize(icu::UnicodeString(c), status);
    ASSERT_TRUE(U_SUCCESS(status));
    const char16_t lower = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
    EXPECT_EQ(folded, icu::UnicodeString(lower)) << "U+" << static_cast<int>(c);
  }
  // Words mixing ASCII and other letters still go through ICU whole.
  EXPECT_THAT(Words("CAFE\xcc\x81 Cafe\xcc\x81s MASSE", 10),
              ElementsAre("caf\xc3\xa9", "caf\xc3\xa9s", "masse"));
}

TEST(SearchTokenizer, SplitsScriptsWithoutSpaces) {
  // 東京都に住む: ICU's dictionary finds several words, not one run of ideographs.
  auto words =
      Words("\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe3\x81\xab\xe4\xbd\x8f\xe3\x82\x80", 10);
  EXPECT_GE(words.size(), 2u);
}

TEST(SearchTokenizer, AddressesKeepTheirParts) {
  auto words = Words("Bob Smith <bob.smith@example.com>", 20);
  EXPECT_THAT(words, Contains("bob"));
  EXPECT_THAT(words, Contains("smith"));
  EXPECT_THAT(words, Contains("example.com"));
}

TEST(SearchTokenizer, LimitsAndBadBytes) {
  EXPECT_EQ(Words("a b c d e", 3).size(), 3u);
  EXPECT_TRUE(Words("a b", 0).empty());
  EXPECT_THAT(Words(std::string(kMaxWordBytes + 1, 'x') + " ok", 10), ElementsAre("ok"));
  EXPECT_THAT(Words(std::string(kMaxWordBytes, 'x'), 10),
              ElementsAre(std::string(kMaxWordBytes, 'x')));
  EXPECT_THAT(Words("good\xff\xfe"
                    "bad",
                    10),
              ElementsAre("good", "bad"));
  EXPECT_TRUE(Words("", 10).empty());
  EXPECT_TRUE(Words(" ,;!? ", 10).empty());
  for (const std::string& w : Words("a/b c%d", 10)) EXPECT_THAT(w, Not(Contains('/')));
}

}  // namespace
}  // namespace penncloud::mail
