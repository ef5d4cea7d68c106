#include "mail/search_query.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ErrorOf(std::string_view q) {
  auto parsed = ParseSearchQuery(q);
  EXPECT_FALSE(parsed.ok()) << q;
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << q;
  return std::string(parsed.status().message());
}

TEST(SearchQuery, FreeWordsAndFields) {
  auto q = ParseSearchQuery("Budget from:Bob subject:Q3 to:carol@example.com");
  ASSERT_TRUE(q.ok()) << q.status();
  for (const char* key :
       {"f:bob", "s:q3", "t:carol@example.com", "t:carol", "t:example.com", "w:budget"}) {
    EXPECT_THAT(q->keys, ::testing::Contains(key));
  }
  EXPECT_THAT(q->keys, ::testing::Not(::testing::Contains("w:bob")));
  EXPECT_TRUE(q->phrases.empty());
}

TEST(SearchQuery, PhrasesAndQuotedFields) {
  auto q = ParseSearchQuery("\"quarterly report\" subject:\"Big Plan\"");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_THAT(q->keys, ElementsAre("s:big", "s:plan", "w:quarterly", "w:report"));
  ASSERT_EQ(q->phrases.size(), 2u);
  EXPECT_EQ(q->phrases[0].field, SearchField::kAny);
  EXPECT_THAT(q->phrases[0].words, ElementsAre("quarterly", "report"));
  EXPECT_EQ(q->phrases[1].field, SearchField::kSubject);
}

TEST(SearchQuery, Filters) {
  auto q = ParseSearchQuery("in:INBOX is:unread has:attachment after:2026-01-31 before:2026-02-02");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->folder, "inbox");
  EXPECT_TRUE(q->unread);
  EXPECT_TRUE(q->has_attachment);
  EXPECT_EQ(*q->after_micros,
            absl::ToUnixMicros(absl::FromCivil(absl::CivilDay(2026, 1, 31), absl::UTCTimeZone())));
  EXPECT_EQ(*q->before_micros - *q->after_micros, 2LL * 86400 * 1'000'000);
  EXPECT_TRUE(ParseSearchQuery("in:Work/2026")->folder == "Work/2026");
}

TEST(SearchQuery, ColonsInsideWordsAreWords) {
  auto q = ParseSearchQuery("meeting 10:30");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_THAT(q->keys, ::testing::Contains("w:meeting"));
}

TEST(SearchQuery, ErrorsSayWhatIsWrong) {
  EXPECT_THAT(ErrorOf("label:work"), HasSubstr("unknown operator 'label:'"));
  EXPECT_THAT(ErrorOf("before:2026-13-01"), HasSubstr("YYYY-MM-DD"));
  EXPECT_THAT(ErrorOf("after:2026-2-1"), HasSubstr("YYYY-MM-DD"));
  EXPECT_THAT(ErrorOf("after:2026-02-30"), HasSubstr("YYYY-MM-DD"));
  EXPECT_THAT(ErrorOf("\"open phrase"), HasSubstr("quote is not closed"));
  EXPECT_THAT(ErrorOf("subject:\"x"), HasSubstr("quote is not closed"));
  EXPECT_THAT(ErrorOf("a\"b\""), HasSubstr("quote"));
  EXPECT_THAT(ErrorOf("is:starred"), HasSubstr("is: takes only 'unread'"));
  EXPECT_THAT(ErrorOf("has:pdf"), HasSubstr("attachment"));
  EXPECT_THAT(ErrorOf("in:"), HasSubstr("in: names no folder"));
  EXPECT_THAT(ErrorOf("from:"), HasSubstr("no word"));
  EXPECT_THAT(ErrorOf("in:inbox in:sent"), HasSubstr("twice"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("empty"));
  EXPECT_THAT(ErrorOf("  ,, "), HasSubstr("empty"));
  EXPECT_THAT(ErrorOf("bad\xff"), HasSubstr("UTF-8"));
}

TEST(SearchQuery, Limits) {
  std::string longest = "word" + std::string(kMaxQueryBytes - 4, ' ');
  EXPECT_TRUE(ParseSearchQuery(longest).ok());
  EXPECT_THAT(ErrorOf(longest + "a"), HasSubstr("longer than 512 bytes"));
  std::string words;
  for (size_t i = 0; i < kMaxQueryWords; ++i) words += Cat("w", i, " ");
  EXPECT_TRUE(ParseSearchQuery(words).ok());
  EXPECT_THAT(ErrorOf(words + "one-more"), HasSubstr("more than 16 words"));
}

}  // namespace
}  // namespace penncloud::mail
