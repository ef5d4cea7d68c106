#include "mail/search_index.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mail/search_test_support.h"

namespace penncloud::mail {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Mail;
using testing::SearchIds;
using ::testing::UnorderedElementsAre;

class SearchIndexTest : public ::testing::Test {
 protected:
  std::string Add(std::string_view folder, std::string_view source, bool seen = false) {
    auto meta = store_.Add("alice", folder, source, seen);
    EXPECT_TRUE(meta.ok()) << meta.status();
    return meta.ok() ? meta->id() : "";
  }
  std::vector<std::string> Find(std::string_view q) { return SearchIds(search_, "alice", q); }

  kvs::MemoryClient kvs_;
  int64_t now_ = testing::kStartMicros;
  MailStore store_{kvs_, [this] { return now_ += 1000; }};
  MailSearch search_{store_};
};

TEST_F(SearchIndexTest, FindsWordsInEveryField) {
  std::string a = Add(kInbox, Mail("Bob Builder <bob@example.com>", "alice@penncloud.local",
                                   "Quarterly budget", "The numbers are attached."));
  std::string b = Add(kSent, Mail("alice@penncloud.local", "carol@example.org", "Lunch?",
                                  "Shall we meet at noon", "Cc: Dave <dave@example.net>\r\n"));
  std::string c = Add(kInbox, testing::WithAttachment("scan", "Invoice-2026.pdf"));
  EXPECT_THAT(Find("budget"), ElementsAre(a));
  EXPECT_THAT(Find("NUMBERS"), ElementsAre(a));
  EXPECT_THAT(Find("from:bob"), ElementsAre(c, a));
  EXPECT_THAT(Find("from:builder"), ElementsAre(a));
  EXPECT_THAT(Find("to:carol"), ElementsAre(b));
  EXPECT_THAT(Find("to:dave"), ElementsAre(b));
  EXPECT_THAT(Find("subject:lunch"), ElementsAre(b));
  EXPECT_THAT(Find("subject:noon"), IsEmpty());
  EXPECT_THAT(Find("noon"), ElementsAre(b));
  EXPECT_THAT(Find("invoice"), ElementsAre(c));
  EXPECT_THAT(Find("has:attachment"), ElementsAre(c));
  EXPECT_THAT(Find("in:sent"), ElementsAre(b));
  EXPECT_THAT(Find("budget lunch"), IsEmpty());
  EXPECT_THAT(Find("missing"), IsEmpty());
  // Another user's mailbox is another index.
  EXPECT_THAT(SearchIds(search_, "bob", "budget"), IsEmpty());
}

TEST_F(SearchIndexTest, PostingsAreCellsOfTheUsersRow) {
  std::string id = Add(kInbox, Mail("bob@example.com", "alice@penncloud.local", "Hi", "word"));
  EXPECT_TRUE(kvs_.Get("mailsearch/alice", "p/w:word/" + id).ok());
  EXPECT_TRUE(kvs_.Get("mailsearch/alice", "p/s:hi/" + id).ok());
  EXPECT_TRUE(kvs_.Get("mailsearch/alice", "p/~in:inbox/" + id).ok());
  EXPECT_TRUE(kvs_.Get("mailsearch/alice", "p/~unread/" + id).ok());
  EXPECT_TRUE(kvs_.Get("mailsearch/alice", "d/" + id).ok());
  ASSERT_TRUE(store_.Remove("alice", id).ok());
  auto left = kvs_.List("mailsearch/alice", {.after = "", .limit = 100, .with_values = false});
  ASSERT_TRUE(left.ok());
  EXPECT_THAT(left->cells, IsEmpty());
}

TEST_F(SearchIndexTest, FollowsFlagsMovesCopiesAndRemovals) {
  std::string a = Add(kInbox, Mail("bob@example.com", "alice@x", "report", "alpha"));
  std::string b = Add(kInbox, Mail("bob@example.com", "alice@x", "report", "beta"), true);
  EXPECT_THAT(Find("report is:unread"), ElementsAre(a));
  ASSERT_TRUE(store_.SetSeen("alice", a, true).ok());
  ASSERT_TRUE(store_.SetSeen("alice", b, false).ok());
  EXPECT_THAT(Find("report is:unread"), ElementsAre(b));

  ASSERT_TRUE(store_.CreateFolder("alice", "Work/2026").ok());
  ASSERT_TRUE(store_.Move("alice", a, "Work/2026").ok());
  EXPECT_THAT(Find("report in:Work/2026"), ElementsAre(a));
  EXPECT_THAT(Find("report in:inbox"), ElementsAre(b));
  EXPECT_THAT(Find("in:Work"), IsEmpty());  // not the child folder

  auto meta = store_.Find("alice", b);
  ASSERT_TRUE(meta.ok());
  auto copy = store_.Copy("alice", *meta, kTrash);
  ASSERT_TRUE(copy.ok());
  EXPECT_THAT(Find("beta"), UnorderedElementsAre(b, copy->id()));
  EXPECT_THAT(Find("beta in:trash"), ElementsAre(copy->id()));

  ASSERT_TRUE(store_.Remove("alice", b).ok());
  EXPECT_THAT(Find("beta"), ElementsAre(copy->id()));
  ASSERT_TRUE(store_.RenameFolder("alice", "Work", "Jobs").ok());
  EXPECT_THAT(Find("alpha in:Jobs/2026"), ElementsAre(a));
  ASSERT_TRUE(store_.DeleteFolder("alice", "Jobs/2026").ok());
  EXPECT_THAT(Find("alpha"), IsEmpty());
}

TEST_F(SearchIndexTest, DatesArePerArrivalDay) {
  std::string jan = Add(kInbox, Mail("b@x", "a@x", "one", "dated"));
  now_ += 40LL * 86400 * 1'000'000;  // into February
  std::string feb = Add(kInbox, Mail("b@x", "a@x", "two", "dated"));
  EXPECT_THAT(Find("dated before:2026-01-02"), ElementsAre(jan));
  EXPECT_THAT(Find("dated after:2026-02-01"), ElementsAre(feb));
  EXPECT_THAT(Find("after:2026-01-01 before:2026-03-01"), ElementsAre(feb, jan));
  EXPECT_THAT(Find("before:2026-01-01"), IsEmpty());
}

TEST_F(SearchIndexTest, PhrasesMustBeAdjacent) {
  std::string a = Add(kInbox, Mail("b@x", "a@x", "x", "the quick brown fox"));
  std::string b = Add(kInbox, Mail("b@x", "a@x", "brown quick", "nothing"));
  EXPECT_THAT(Find("quick brown"), ElementsAre(b, a));
  EXPECT_THAT(Find("\"quick brown\""), ElementsAre(a));
  EXPECT_THAT(Find("subject:\"brown quick\""), ElementsAre(b));
  EXPECT_THAT(Find("subject:\"quick brown\""), IsEmpty());
}

TEST_F(SearchIndexTest, PagesAreBoundedAndResume) {
  std::vector<std::string> ids;
  for (int i = 0; i < 23; ++i) ids.push_back(Add(kInbox, Mail("b@x", "a@x", "page", "common")));
  std::reverse(ids.begin(), ids.end());  // newest first
  auto query = ParseSearchQuery("common");
  ASSERT_TRUE(query.ok());
  auto first = search_.Search("alice", *query, "", 10);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->messages.size(), 10u);
  EXPECT_FALSE(first->next_cursor.empty());
  EXPECT_EQ(SearchIds(search_, "alice", "common", 10), ids);
  EXPECT_EQ(search_.Search("alice", *query, "", 1000)->messages.size(), 23u);
}

TEST_F(SearchIndexTest, MessagesFromBeforeTheIndexAreIndexedOnFirstSearch) {
  std::string old = Add(kInbox, Mail("b@x", "a@x", "ancient", "history"));
  auto cells = kvs_.List("mailsearch/alice", {.after = "", .limit = 1000, .with_values = false});
  ASSERT_TRUE(cells.ok());
  for (const auto& c : cells->cells) ASSERT_TRUE(kvs_.Delete("mailsearch/alice", c.column).ok());
  EXPECT_THAT(Find("history"), ElementsAre(old));
  EXPECT_TRUE(store_.index().Complete("alice"));
}

TEST_F(SearchIndexTest, KeysOfAMessage) {
  ParsedMessage m;
  m.subject = "Hello";
  m.from = "Bob <bob@example.com>";
  m.text = "hello there";
  m.attachments.push_back({"Plan.PDF", "application/pdf", ""});
  std::vector<std::string> keys = KeysOf(m);
  for (const char* key :
       {"f:bob", "f:bob@example.com", "f:example.com", "s:hello", "w:bob", "w:example.com",
        "w:hello", "w:plan.pdf", "w:plan", "w:pdf", "w:there", "~all", "~att"}) {
    EXPECT_THAT(keys, ::testing::Contains(key));
  }
  EXPECT_THAT(keys, ::testing::Not(::testing::Contains("s:there")));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
}

TEST_F(SearchIndexTest, IdTimes) {
  std::string id = Add(kInbox, Mail("b@x", "a@x", "t", "t"));
  EXPECT_GT(IdMicros(id), testing::kStartMicros);
  EXPECT_LE(IdMicros(id), now_);
  EXPECT_EQ(IdMicros("short"), 0);
}

}  // namespace
}  // namespace penncloud::mail
