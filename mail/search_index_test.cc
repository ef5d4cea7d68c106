#include "mail/search_index.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvs/client/counting_client.h"
#include "kvs/client/forwarding_client.h"
#include "mail/search_merge.h"
#include "mail/search_oracle.h"
#include "mail/search_segments.h"
#include "mail/search_snapshot.h"
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

using kvs::CountingClient;

TEST_F(SearchIndexTest, ADeliveryWritesOneIndexCell) {
  CountingClient counting(kvs_, {"mailsearch/"});
  MailStore store(counting, [this] { return now_ += 1000; });
  constexpr int kMessages = 50;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(
        store.Add("alice", kInbox, Mail("b@x", "a@x", Cat("hello ", i), "a b c d e f g h"), false)
            .ok());
  }
  // The doc, and nothing else of the index: with the source, the folder's UID (one
  // compare-and-put each here, one per batch when deliveries run together) and the entry,
  // 4 writes per message (and one creating the folder's cell).
  EXPECT_EQ(counting.writes("mailsearch/"), kMessages);
  EXPECT_EQ(counting.writes(), 4 * kMessages + 1);
  // Merging writes a few cells for all of them, and an unread cell for each still unread.
  auto inbox = store.ListAll("alice", kInbox);
  ASSERT_TRUE(inbox.ok());
  for (int i = 0; i < kMessages; i += 2) {
    ASSERT_TRUE(store.SetSeen("alice", (*inbox)[i].id(), true).ok());
  }
  now_ += 1'000'000;
  const int before = counting.writes("mailsearch/");
  ASSERT_TRUE(MailSearch(store).Merge("alice").ok());
  EXPECT_LE(counting.writes("mailsearch/") - before, 3 + kMessages / 2);
  EXPECT_THAT(Find("hello"), ::testing::SizeIs(kMessages));
}

TEST_F(SearchIndexTest, IsUnreadReadsCellsOfTheUnreadNotOfTheMailbox) {
  CountingClient counting(kvs_);
  MailStore store(counting, [this] { return now_ += 1000; });
  MailSearch search(store);
  ASSERT_TRUE(store.CreateFolder("alice", "Work").ok());
  EXPECT_THAT(SearchIds(search, "alice", "is:unread"), IsEmpty());
  // 2,000 messages delivered unread (so their docs say "~unread") and merged as they come;
  // all but 5 are read afterwards.
  constexpr int kMessages = 2000, kUnread = 5;
  std::vector<std::string> read;
  for (int i = 0; i < kMessages; ++i) {
    const bool stays_unread = i % (kMessages / kUnread) == 7;
    auto meta = store.Add(
        "alice", i % 3 == 0 ? std::string_view("Work") : kInbox,
        Mail("b@x", "a@x", Cat("note ", i), stays_unread || i % 2 ? "invoice due" : "weekly news"),
        false);
    ASSERT_TRUE(meta.ok()) << meta.status();
    if (!stays_unread) read.push_back(meta->id());
    if (i % 500 == 499) {
      now_ += 1'000'000;
      ASSERT_TRUE(search.Merge("alice").ok());
    }
  }
  for (const std::string& id : read) ASSERT_TRUE(store.SetSeen("alice", id, true).ok());
  now_ += 1'000'000;
  ASSERT_TRUE(search.Merge("alice").ok());
  for (const char* q : {"is:unread", "is:unread invoice", "in:inbox is:unread",
                        "in:Work is:unread invoice", "in:sent is:unread"}) {
    auto query = ParseSearchQuery(q);
    ASSERT_TRUE(query.ok());
    const std::vector<std::string> expected = testing::OracleSearch(store, "alice", *query);
    const int before = counting.reads();
    EXPECT_EQ(SearchIds(search, "alice", q), expected) << q;
    const int reads = counting.reads() - before;
    // The version, the manifest, the docs' listing, the unread cells, the word's blocks
    // (cached after the first query), then per unread message at most a folder page and
    // two reads to check it: bounded by the unread count, whatever the mailbox's size
    // (one more for a background sweep that may overlap).
    EXPECT_LE(reads, 6 + 3 * kUnread + 1) << q;
    std::cout << q << ": " << expected.size() << " hits, " << reads << " reads\n";
  }
}

// A folder or "~unread" holding most of what the words match steers nothing: it is not
// listed again at every hit (a listing each, one after another, in a cluster) but checked
// on the entries, which the query reads anyway; and an entry found where the query looks
// first needs no doc read.
TEST_F(SearchIndexTest, AFolderOrUnreadHoldingMostHitsCostsNoListingPerHit) {
  CountingClient counting(kvs_);
  MailStore store(counting, [this] { return now_ += 1000; });
  MailSearch search(store);
  ASSERT_TRUE(store.CreateFolder("alice", "Work").ok());
  constexpr int kMessages = 1200, kWithWord = kMessages / 5, kInWork = kMessages / 20;
  for (int i = 0; i < kMessages; ++i) {
    // A fifth with the word, a quarter of those in Work; two in three unread.
    auto meta = store.Add("alice", i % 20 == 5 ? std::string_view("Work") : kInbox,
                          Mail("b@x", "a@x", Cat("note ", i), i % 5 == 0 ? "alpha" : "beta"),
                          /*seen=*/i % 3 == 0);
    ASSERT_TRUE(meta.ok()) << meta.status();
  }
  now_ += 1'000'000;
  ASSERT_TRUE(search.Merge("alice").ok());
  ASSERT_THAT(SearchIds(search, "alice", "alpha"), ::testing::SizeIs(kWithWord));
  for (const char* q : {"alpha in:inbox", "alpha is:unread", "in:inbox alpha is:unread"}) {
    auto query = ParseSearchQuery(q);
    ASSERT_TRUE(query.ok());
    const std::vector<std::string> expected = testing::OracleSearch(store, "alice", *query);
    ASSERT_GE(expected.size(), kWithWord / 2) << q;
    const int reads = counting.reads(), lists = counting.lists();
    EXPECT_EQ(SearchIds(search, "alice", q, 50), expected) << q;
    const int pages = static_cast<int>(expected.size()) / 50 + 1;
    // Per page: the version, the manifest, the docs' listing and a few listings of the
    // folder and the unread cells before they are dropped; then an entry per message with
    // the word, looked for in the inbox: those in Work cost the doc and their entry too.
    EXPECT_LE(counting.lists() - lists, 10 * pages) << q;
    EXPECT_LE(counting.reads() - reads, 12 * pages + kWithWord + 2 * kInWork) << q;
    std::cout << q << ": " << expected.size() << " hits in " << pages << " pages, "
              << counting.reads() - reads << " reads, " << counting.lists() - lists
              << " listings\n";
  }
}

// Unread mail is often only the newest: "~unread" confirms the first hits, is dropped, and
// must come back once the hits checked are mostly read, or the query would read the entry
// of every older message with the word.
TEST_F(SearchIndexTest, UnreadDroppedAtTheNewestIsReadAgainPastThem) {
  CountingClient counting(kvs_);
  MailStore store(counting, [this] { return now_ += 1000; });
  MailSearch search(store);
  constexpr int kMessages = 4000, kUnread = 400, kWithWord = kMessages / 20;
  for (int i = 0; i < kMessages; ++i) {
    auto meta = store.Add("alice", kInbox,
                          Mail("b@x", "a@x", Cat("note ", i), i % 20 == 0 ? "alpha" : "beta"),
                          /*seen=*/i < kMessages - kUnread);
    ASSERT_TRUE(meta.ok()) << meta.status();
  }
  now_ += 1'000'000;
  ASSERT_TRUE(search.Merge("alice").ok());
  ASSERT_THAT(SearchIds(search, "alice", "alpha"), ::testing::SizeIs(kWithWord));
  auto query = ParseSearchQuery("alpha is:unread");
  ASSERT_TRUE(query.ok());
  const std::vector<std::string> expected = testing::OracleSearch(store, "alice", *query);
  ASSERT_THAT(expected, ::testing::SizeIs(kUnread / 20));
  const int reads = counting.reads();
  EXPECT_EQ(SearchIds(search, "alice", "alpha is:unread", 50), expected);
  // One batch of checks (at most a page) past the unread messages, not all the word's.
  EXPECT_LE(counting.reads() - reads, 12 + 50 + kUnread / 20);
  std::cout << expected.size() << " hits, " << counting.reads() - reads << " reads\n";
}

TEST_F(SearchIndexTest, RemovalLeavesNoIndexCellButSegments) {
  std::string id = Add(kInbox, Mail("bob@example.com", "alice@penncloud.local", "Hi", "word"));
  EXPECT_TRUE(kvs_.Get("mailsearch/alice", "d/" + id).ok());
  EXPECT_THAT(Find("word"), ElementsAre(id));
  now_ += 1'000'000;
  ASSERT_TRUE(search_.Merge("alice").ok());
  EXPECT_THAT(Find("word"), ElementsAre(id));  // from the segment now
  ASSERT_TRUE(store_.SetSeen("alice", id, true).ok());
  ASSERT_TRUE(store_.SetSeen("alice", id, false).ok());
  EXPECT_TRUE(kvs_.Get("mailsearch/alice", "u/" + id).ok());
  ASSERT_TRUE(store_.Remove("alice", id).ok());
  EXPECT_THAT(Find("word"), IsEmpty());
  auto left = kvs_.List("mailsearch/alice", {.after = "", .limit = 100, .with_values = false});
  ASSERT_TRUE(left.ok());
  for (const auto& cell : left->cells) {
    EXPECT_TRUE(cell.column == "m" || cell.column == "v" || cell.column.starts_with("s/"))
        << cell.column;
  }
}

TEST_F(SearchIndexTest, ADocWrittenAfterAMergeClaimedItsPlaceIsMarkedLate) {
  std::string early = Add(kInbox, Mail("b@x", "a@x", "t", "punctual"));
  now_ += 1'000'000;
  ASSERT_TRUE(search_.Merge("alice").ok());
  // A delivery that took its id before the merge and wrote its doc only after it.
  const std::string late = IdFloor(testing::kStartMicros - 1).substr(0, 16) + "00000000000000aa";
  ParsedMessage message;
  message.text = "punctual tardy";
  ASSERT_TRUE(store_.index().Add("alice", late, kInbox, message, true).ok());
  EXPECT_TRUE(kvs_.Get("mailsearch/alice", "c/" + late).ok());
  auto read = [&](std::string_view key) {
    auto snapshot = IndexSnapshot::Load(kvs_, "alice", -1);
    EXPECT_TRUE(snapshot.ok());
    auto ids = snapshot->Postings(key, "", 100);
    EXPECT_TRUE(ids.ok());
    return ids.value_or(std::vector<std::string>{});
  };
  EXPECT_THAT(read("w:punctual"), ElementsAre(early, late));
  EXPECT_THAT(read("w:tardy"), ElementsAre(late));
  now_ += 1'000'000;
  ASSERT_TRUE(search_.Merge("alice").ok());
  EXPECT_FALSE(kvs_.Get("mailsearch/alice", "c/" + late).ok());  // folded
  EXPECT_THAT(read("w:tardy"), ElementsAre(late));
  EXPECT_THAT(read("~unread"), ElementsAre(early, late));
}

TEST_F(SearchIndexTest, SegmentsMergeAndDropRemovedMessages) {
  std::vector<std::string> ids;
  auto deliver_and_merge = [&](int rounds) {
    for (int round = 0; round < rounds; ++round) {
      for (int i = 0; i < 25; ++i) ids.push_back(Add(kInbox, Mail("b@x", "a@x", "s", "tiered")));
      now_ += 1'000'000;
      ASSERT_TRUE(search_.Merge("alice").ok());
    }
  };
  deliver_and_merge(4);  // four segments of 25, merged into one of 100
  auto manifest = ReadManifest(kvs_, "alice");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->manifest.segments_size(), 1);
  for (size_t i = 0; i < ids.size(); i += 2) ASSERT_TRUE(store_.Remove("alice", ids[i]).ok());
  deliver_and_merge(4);  // the one of 100 merges with three of 25, dropping the removed
  manifest = ReadManifest(kvs_, "alice");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->manifest.segments_size(), 2);
  std::vector<std::string> live;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i >= 100 || i % 2 == 1) live.push_back(ids[i]);
  }
  std::sort(live.begin(), live.end());
  auto snapshot = IndexSnapshot::Load(kvs_, "alice", -1);
  ASSERT_TRUE(snapshot.ok());
  auto postings = snapshot->Postings("w:tiered", "", 1000);
  ASSERT_TRUE(postings.ok());
  EXPECT_EQ(*postings, live);
  EXPECT_EQ(Find("tiered"), live);
}

TEST_F(SearchIndexTest, TheDeliveringProcessMergesInTheBackground) {
  // A posting cell of layout 1, which the first background merge's sweep deletes.
  ASSERT_TRUE(kvs_.Put("mailsearch/alice", "p/w:busy/0123", "").ok());
  MailStore store(kvs_, [] { return absl::ToUnixMicros(absl::Now()); });
  store.index().MergeInBackground(10);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store.Add("alice", kInbox, Mail("b@x", "a@x", "s", "busy"), false).ok());
  }
  // The merge leaves the newest kMergeLag pending; the next rounds fold those too.
  int round = 0;
  for (; round < 100; ++round) {
    auto manifest = ReadManifest(kvs_, "alice");
    ASSERT_TRUE(manifest.ok());
    if (manifest->manifest.segments_size() > 0) break;
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_TRUE(store.Add("alice", kInbox, Mail("b@x", "a@x", "s", "busy"), false).ok());
  }
  EXPECT_LT(round, 100) << "no segment after 100 rounds";
  for (round = 0; round < 100 && kvs_.Get("mailsearch/alice", "p/w:busy/0123").ok(); ++round) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(kvs_.Get("mailsearch/alice", "p/w:busy/0123").ok()) << "not swept";
}

TEST_F(SearchIndexTest, ConcurrentDeliveriesAndMergesLoseNothing) {
  std::vector<std::string> ids;
  std::mutex mu;
  std::atomic<bool> delivering{true};
  std::atomic<int64_t> clock{testing::kStartMicros};
  MailStore store(kvs_, [&] { return clock += 1000; });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 60; ++i) {
        auto meta = store.Add("alice", kInbox, Mail("b@x", "a@x", "s", "racing"), false);
        ASSERT_TRUE(meta.ok()) << meta.status();
        std::lock_guard lock(mu);
        ids.push_back(meta->id());
      }
    });
  }
  std::thread merger([&] {
    MailSearch search(store);
    for (int i = 0; i < 10000 && delivering; ++i) ASSERT_TRUE(search.Merge("alice").ok());
  });
  for (auto& w : writers) w.join();
  delivering = false;
  merger.join();
  std::sort(ids.begin(), ids.end());
  MailSearch search(store);
  EXPECT_EQ(SearchIds(search, "alice", "racing"), ids);
  clock += 1'000'000;
  ASSERT_TRUE(search.Merge("alice").ok());
  EXPECT_EQ(SearchIds(search, "alice", "racing"), ids);
}

TEST_F(SearchIndexTest, AnIndexOfTheFirstLayoutIsMigrated) {
  // Layout 1: a cell per posting, docs without "~unread", unread postings apart.
  MailStore plain(kvs_, [this] { return now_ += 1000; });
  plain.SkipIndexingForBenchmark();
  auto read = plain.Add("alice", kInbox, Mail("b@x", "a@x", "old", "legacy read"), true);
  auto unread = plain.Add("alice", kInbox, Mail("b@x", "a@x", "old", "legacy unread"), false);
  ASSERT_TRUE(read.ok() && unread.ok());
  for (const auto* meta : {&*read, &*unread}) {
    ParsedMessage parsed;
    parsed.text = meta->id() == read->id() ? "legacy read" : "legacy unread";
    pb::SearchDoc doc;
    doc.set_folder("inbox");
    for (const std::string& key : KeysOf(parsed)) {
      doc.add_keys(key);
      ASSERT_TRUE(kvs_.Put("mailsearch/alice", Cat("p/", key, "/", meta->id()), "").ok());
    }
    ASSERT_TRUE(kvs_.Put("mailsearch/alice", "d/" + meta->id(), doc.SerializeAsString()).ok());
  }
  ASSERT_TRUE(kvs_.Put("mailsearch/alice", Cat("p/~unread/", unread->id()), "").ok());
  ASSERT_TRUE(kvs_.Put("mailsearch/alice", "v", "1").ok());

  EXPECT_THAT(Find("legacy"), ElementsAre(unread->id(), read->id()));
  EXPECT_THAT(Find("legacy is:unread"), ElementsAre(unread->id()));
  EXPECT_TRUE(store_.index().Complete("alice"));
  now_ += kRepairGrace;
  ASSERT_TRUE(search_.Repair("alice").ok());
  auto left = kvs_.List("mailsearch/alice", {.after = "p/", .limit = 1, .with_values = false});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->cells.empty() || !left->cells[0].column.starts_with("p/"));
  EXPECT_THAT(Find("legacy"), ElementsAre(unread->id(), read->id()));
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

TEST_F(SearchIndexTest, FlagChangesRacingMergesKeepIsUnreadExact) {
  std::atomic<int64_t> clock{testing::kStartMicros};
  MailStore store(kvs_, [&] { return clock += 1000; });
  EXPECT_THAT(SearchIds(search_, "alice", "is:unread"), IsEmpty());  // no older mail to index
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    auto meta =
        store.Add("alice", i % 2 ? kInbox : kSent, Mail("b@x", "a@x", "s", "flagged"), false);
    ASSERT_TRUE(meta.ok()) << meta.status();
    ids.push_back(meta->id());
  }
  // IMAP, POP3 and webmail all change \Seen through UpdateFlags; four of them at once,
  // while merges fold the docs (and write their unread cells) and queries drop spare ones.
  std::atomic<bool> changing{true};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 40; ++i) {  // some messages stay as delivered
        const std::string& id = ids[rng() % ids.size()];
        ASSERT_TRUE(store.SetSeen("alice", id, rng() % 2 == 0).ok());
      }
    });
  }
  std::thread merger([&] {
    MailSearch search(store);
    while (changing) {
      clock += 200'000;
      ASSERT_TRUE(search.Merge("alice").ok());
      SearchIds(search, "alice", "is:unread");
    }
  });
  for (auto& c : clients) c.join();
  changing = false;
  merger.join();
  auto query = ParseSearchQuery("is:unread");
  ASSERT_TRUE(query.ok());
  MailSearch search(store);
  const std::vector<std::string> unread = testing::OracleSearch(store, "alice", *query);
  EXPECT_EQ(SearchIds(search, "alice", "is:unread"), unread);
  clock += 1'000'000;
  ASSERT_TRUE(search.Merge("alice").ok());
  EXPECT_EQ(SearchIds(search, "alice", "is:unread"), unread);
  EXPECT_EQ(SearchIds(search, "alice", "in:sent is:unread flagged"),
            testing::OracleSearch(store, "alice", *ParseSearchQuery("in:sent is:unread flagged")));
}

TEST_F(SearchIndexTest, AnIndexOfTheSecondLayoutGetsItsUnreadCells) {
  // Layout 2 kept a merged message's unread posting in its segment, and no "u/" cells: a
  // segment folded from the docs as they are, as layout 2's merge did.
  const std::string row = "mailsearch/alice";
  std::vector<std::string> ids;
  PostingMap postings;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(Add(kInbox, Mail("b@x", "a@x", "s", "second")));
    auto doc = store_.index().Doc("alice", ids.back());
    ASSERT_TRUE(doc.ok());
    for (const std::string& key : doc->keys()) postings[key].push_back(ids.back());
  }
  for (auto& [key, list] : postings) std::sort(list.begin(), list.end());
  ASSERT_THAT(postings[std::string(kUnreadKey)], ::testing::SizeIs(6));
  auto segment = WriteSegment(kvs_, row, NewSegmentName(now_), postings, 6);
  ASSERT_TRUE(segment.ok());
  pb::SearchManifest manifest;
  manifest.set_frontier(IdFloor(now_));
  *manifest.add_segments() = *segment;
  ASSERT_TRUE(kvs_.Put(row, "m", manifest.SerializeAsString()).ok());
  ASSERT_TRUE(kvs_.Put(row, "v", "2").ok());
  ASSERT_TRUE(store_.SetSeen("alice", ids[1], true).ok());
  ASSERT_TRUE(store_.SetSeen("alice", ids[4], true).ok());

  EXPECT_THAT(Find("is:unread"), ElementsAre(ids[5], ids[3], ids[2], ids[0]));
  EXPECT_TRUE(store_.index().Complete("alice"));
  EXPECT_TRUE(kvs_.Get(row, "u/" + ids[0]).ok());
  EXPECT_FALSE(kvs_.Get(row, "u/" + ids[1]).ok());
  // Compaction drops the segment's stale "~unread" postings.
  for (int round = 0; round < 3; ++round) {
    Add(kInbox, Mail("b@x", "a@x", "s", "second"), true);
    now_ += 1'000'000;
    ASSERT_TRUE(search_.Merge("alice").ok());
  }
  auto compacted = ReadManifest(kvs_, "alice");
  ASSERT_TRUE(compacted.ok());
  ASSERT_EQ(compacted->manifest.segments_size(), 1);
  auto unread = SegmentPostings(kvs_, row, compacted->manifest.segments(0), kUnreadKey);
  ASSERT_TRUE(unread.ok());
  EXPECT_THAT(*unread, IsEmpty());
  EXPECT_THAT(Find("is:unread second"), ElementsAre(ids[5], ids[3], ids[2], ids[0]));
}

TEST_F(SearchIndexTest, TheFirstLayoutsPostingsAreSweptWithoutARepair) {
  // Layout 1: a cell per posting, more of them than one background pass deletes.
  MailStore plain(kvs_, [this] { return now_ += 1000; });
  plain.SkipIndexingForBenchmark();
  std::vector<std::string> ids;
  int postings = 0;
  for (int i = 0; postings <= 2 * kSweepBatch; ++i) {
    const std::string body = Cat("legacy number", i, " ", i % 3 ? "common" : "rare");
    auto meta =
        plain.Add("alice", i % 4 ? kInbox : kSent, Mail("b@x", "a@x", "old", body), i % 5 == 0);
    ASSERT_TRUE(meta.ok());
    ParsedMessage parsed = ParseMessage(Mail("b@x", "a@x", "old", body));
    pb::SearchDoc doc;
    doc.set_folder(meta->folder());
    for (const std::string& key : KeysOf(parsed)) {
      doc.add_keys(key);
      ASSERT_TRUE(kvs_.Put("mailsearch/alice", Cat("p/", key, "/", meta->id()), "").ok());
      ++postings;
    }
    if (!meta->seen()) {
      ASSERT_TRUE(kvs_.Put("mailsearch/alice", Cat("p/~unread/", meta->id()), "").ok());
    }
    ASSERT_TRUE(kvs_.Put("mailsearch/alice", "d/" + meta->id(), doc.SerializeAsString()).ok());
    ids.push_back(meta->id());
  }
  ASSERT_TRUE(kvs_.Put("mailsearch/alice", "v", "1").ok());
  auto postings_left = [&] {
    auto page = kvs_.List("mailsearch/alice", {.after = "p/", .limit = 1, .with_values = false});
    EXPECT_TRUE(page.ok());
    return page.ok() && !page->cells.empty() && page->cells[0].column.starts_with("p/");
  };
  // Searching is all that happens: the first search queues the sweep, and the answers stay
  // right while it runs, and while another process delivers.
  std::atomic<bool> sweeping{true};
  std::thread deliveries([&] {
    std::atomic<int64_t> clock{now_};
    MailStore other(kvs_, [&] { return clock += 1000; });
    while (sweeping) {
      ASSERT_TRUE(other.Add("alice", kInbox, Mail("b@x", "a@x", "new", "fresh"), false).ok());
    }
  });
  const std::vector<std::string> queries = {"legacy", "rare is:unread", "is:unread legacy",
                                            "common in:inbox", "in:sent is:unread legacy"};
  for (int round = 0; round < 200 && postings_left(); ++round) {
    const std::string& q = queries[round % queries.size()];
    EXPECT_EQ(Find(q), testing::OracleSearch(store_, "alice", *ParseSearchQuery(q))) << q;
    absl::SleepFor(absl::Milliseconds(20));
  }
  sweeping = false;
  deliveries.join();
  EXPECT_FALSE(postings_left());
  for (const char* q :
       {"legacy", "rare is:unread", "in:sent is:unread", "is:unread", "fresh", "common in:inbox"}) {
    EXPECT_EQ(Find(q), testing::OracleSearch(store_, "alice", *ParseSearchQuery(q))) << q;
  }
}

// Gets that take a while, counting how many were under way at once.
class SlowReads : public kvs::ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    const int now = ++in_flight_;
    for (int most = most_in_flight_;
         now > most && !most_in_flight_.compare_exchange_weak(most, now);) {
    }
    ++gets_;
    absl::SleepFor(absl::Milliseconds(20));
    --in_flight_;
    return ForwardingClient::Get(row, column);
  }
  int gets() const { return gets_; }
  int most_in_flight() const { return most_in_flight_; }

 private:
  std::atomic<int> in_flight_{0}, most_in_flight_{0}, gets_{0};
};

// A key not cached costs a block of every segment: a query's keys are located in all of
// them with the blocks read together, each once, and found where they are.
TEST_F(SearchIndexTest, AQuerysKeysAreLocatedInEverySegmentWithTheBlocksReadTogether) {
  std::vector<pb::SearchSegment> segments;
  for (int s = 0; s < 12; ++s) {
    const std::string id = absl::StrFormat("%032x", s);
    PostingMap postings{{"w:alpha", {id}}, {"w:beta", {id}}};
    if (s % 3 == 0) postings.erase("w:beta");
    auto segment = WriteSegment(kvs_, "row", Cat("located", s), postings, 1);
    ASSERT_TRUE(segment.ok()) << segment.status();
    segments.push_back(*segment);
  }
  std::vector<const pb::SearchSegment*> all;
  for (const pb::SearchSegment& segment : segments) all.push_back(&segment);
  SlowReads slow(kvs_);
  auto located = LocatePackedPostings(slow, "row", all, {"w:alpha", "w:beta", "w:gamma"});
  ASSERT_TRUE(located.ok()) << located.status();
  EXPECT_EQ(slow.gets(), 12);  // one block each, shared by the keys
  EXPECT_GT(slow.most_in_flight(), 4);
  for (size_t s = 0; s < segments.size(); ++s) {
    const std::string id = absl::StrFormat("%032x", s);
    ASSERT_EQ((*located)[0][s].size(), 1u);
    EXPECT_EQ((*located)[0][s].IdAt(0), id);
    EXPECT_EQ((*located)[1][s].size(), s % 3 == 0 ? 0u : 1u);
    EXPECT_EQ((*located)[2][s].size(), 0u);
  }
  // Segments never change: the blocks are cached in the process.
  ASSERT_TRUE(LocatePackedPostings(slow, "row", all, {"w:beta"}).ok());
  EXPECT_EQ(slow.gets(), 12);
}

// A list longer than a block's piece spans several runs; seeking in it, from ids, from
// strings between ids (what the intersection and cursors pass) and from past either end,
// agrees with the decoded list, and no id is decoded wrongly.
TEST_F(SearchIndexTest, PackedPostingsSeekAcrossBlocks) {
  std::mt19937_64 rng(21);
  std::vector<std::string> ids;
  for (int i = 0; i < 70000; ++i) ids.push_back(absl::StrFormat("%016x%016x", rng(), rng()));
  std::sort(ids.begin(), ids.end());
  PostingMap postings{{"a", {ids[5]}}, {"w:long", ids}, {"z", {ids[0], ids[9]}}};
  auto segment = WriteSegment(kvs_, "row", "seg", postings, 70000);
  ASSERT_TRUE(segment.ok()) << segment.status();
  ASSERT_GT(segment->first_keys_size(), 2);
  auto packed = SegmentPackedPostings(kvs_, "row", *segment, "w:long");
  ASSERT_TRUE(packed.ok()) << packed.status();
  ASSERT_EQ(packed->size(), ids.size());
  for (size_t i = 0; i < ids.size(); i += 997) EXPECT_EQ(packed->IdAt(i), ids[i]);
  EXPECT_EQ(packed->IdAt(ids.size() - 1), ids.back());
  auto expected = [&](std::string_view after) {
    return static_cast<size_t>(std::upper_bound(ids.begin(), ids.end(), after) - ids.begin());
  };
  std::vector<std::string> seeks = {"", "0", "~", ids.front(), ids.back()};
  for (size_t i = 1; i < ids.size(); i += 4099) {
    seeks.push_back(ids[i]);
    std::string below = ids[i];
    --below.back();  // between ids: not hex, as the intersection's seeks are
    seeks.push_back(below);
    seeks.push_back(ids[i].substr(0, 7));
  }
  for (const std::string& after : seeks)
    EXPECT_EQ(packed->UpperBound(after), expected(after)) << after;
  auto z = SegmentPostings(kvs_, "row", *segment, "z");
  ASSERT_TRUE(z.ok());
  EXPECT_THAT(*z, ElementsAre(ids[0], ids[9]));
}

}  // namespace
}  // namespace penncloud::mail
