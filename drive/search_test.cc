// Name search: folded words (case, compatibility forms, accents), the index kept in step with
// every change of the tree, and the bounds of a query.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "absl/strings/str_join.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/name_words.h"
#include "drive/test_util.h"
#include "kvs/client/counting_client.h"
#include "proto/drive.pb.h"

namespace penncloud::drive {
namespace {

class SearchTest : public DriveTest {
 protected:
  SearchTest() : DriveTest(/*chunk_bytes=*/4, /*recovery=*/true) {}

  std::vector<std::string> Find(const std::string& query, const std::string& user = "alice") {
    auto found = drive_->Search(user, query);
    EXPECT_TRUE(found.ok()) << found.status();
    std::vector<std::string> paths;
    if (found.ok()) {
      for (const auto& m : *found) paths.push_back(m.path);
    }
    return paths;
  }

  // Writes alice's empty file `path` ("/<folder>/<name>", the folder made if new) and its
  // index cells straight to the store, as an upload leaves them: thousands of names this way
  // take a moment, through uploads minutes.
  void Index(const std::string& path) {
    const size_t slash = path.rfind('/');
    const std::string folder = path.substr(0, slash), name = path.substr(slash + 1);
    auto [known, added] = folder_ids_.emplace(folder, "");
    if (added) {
      ASSERT_TRUE(drive_->CreateFolder("alice", folder).ok()) << folder;
      auto raw = kvs_.Get(keys::TreeRow("alice", keys::kRootFolderId), folder.substr(1));
      ASSERT_TRUE(raw.ok()) << raw.status();
      known->second = ParseEntry(*raw)->folder_id();
    }
    pb::Entry entry;
    entry.set_kind(pb::Entry::FILE);
    ASSERT_TRUE(kvs_.Put(keys::TreeRow("alice", known->second), name, SerializeEntry(entry)).ok());
    std::string hit;
    pb::NameHit().SerializeToString(&hit);
    for (const std::string& word : FoldedWords(name)) {
      ASSERT_TRUE(kvs_.Put(keys::NamesRow("alice"), keys::NameColumn(word, path), hit).ok());
    }
  }

  std::map<std::string, std::string> folder_ids_;  // of the folders Index made
};

using Paths = std::vector<std::string>;

TEST(NameWordsTest, FoldsCaseWidthAndAccents) {
  EXPECT_EQ(FoldedWords("Q3-Report_FINAL.pdf"), (Paths{"q3", "report", "final", "pdf"}));
  EXPECT_EQ(FoldedWords("Résumé"), Paths{"resume"});
  EXPECT_EQ(FoldedWords("STRASSE straße"), Paths{"strasse"});
  EXPECT_EQ(FoldedWords("ＦＵＬＬ ﬁle"), (Paths{"full", "file"}));
  EXPECT_EQ(FoldedWords("ΣΊΣΥΦΟΣ"), Paths{"σισυφοσ"});
  EXPECT_EQ(FoldedWords("写真 2024"), (Paths{"写真", "2024"}));
  EXPECT_TRUE(FoldedWords("--- ...").empty());
  EXPECT_EQ(FoldedWords(std::string(100, 'a'))[0].size(), kMaxWordBytes);
}

// ASCII names take a short cut past ICU; a non-ASCII word appended sends the same text
// through ICU, which must find the same words before it.
TEST(NameWordsTest, AsciiShortCutAgreesWithIcu) {
  std::mt19937 random(20);
  for (int i = 0; i < 2000; ++i) {
    std::string text(random() % 200, ' ');
    for (char& c : text) c = static_cast<char>(random() % 128);
    if (i % 2 == 0) text += std::string(70 + random() % 10, 'Z');  // a word past the cut
    auto through_icu = FoldedWords(text + " \u0436");
    if (!through_icu.empty() && through_icu.back() == "\u0436") through_icu.pop_back();
    ASSERT_EQ(FoldedWords(text), through_icu) << text;
  }
}

TEST_F(SearchTest, FindsByWordPrefixCaseAndAccentInsensitive) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/Photos").ok());
  ASSERT_TRUE(Write("alice", "/Photos/Résumé 2024.PDF", "pdf").ok());
  ASSERT_TRUE(Write("alice", "/report-final.txt", "12345").ok());
  EXPECT_EQ(Find("resume"), Paths{"/Photos/Résumé 2024.PDF"});
  EXPECT_EQ(Find("RÉS 20"), Paths{"/Photos/Résumé 2024.PDF"});
  EXPECT_EQ(Find("phot"), Paths{"/Photos"});
  EXPECT_EQ(Find("fin rep"), Paths{"/report-final.txt"});
  EXPECT_TRUE(Find("inal").empty());  // words match from their start
  auto found = drive_->Search("alice", "report");
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].name, "report-final.txt");
  EXPECT_FALSE((*found)[0].folder);
  EXPECT_EQ((*found)[0].size, 5u);
}

TEST_F(SearchTest, IndexFollowsMovesDeletesAndRestores) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/a").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/a/inner").ok());
  ASSERT_TRUE(Write("alice", "/a/inner/budget.xls", "x").ok());
  ASSERT_TRUE(drive_->Move("alice", "/a", "/b", false).ok());
  EXPECT_EQ(Find("budget"), Paths{"/b/inner/budget.xls"});
  ASSERT_TRUE(drive_->Move("alice", "/b/inner/budget.xls", "/b/plan.xls", false).ok());
  EXPECT_TRUE(Find("budget").empty());
  EXPECT_EQ(Find("plan"), Paths{"/b/plan.xls"});
  ASSERT_TRUE(drive_->Delete("alice", "/b").ok());
  EXPECT_TRUE(Find("plan").empty());
  EXPECT_TRUE(Find("inner").empty());
  ASSERT_TRUE(drive_->Restore("alice", (*drive_->ListTrash("alice"))[0].id).ok());
  EXPECT_EQ(Find("plan"), Paths{"/b/plan.xls"});
  EXPECT_EQ(Find("inner"), Paths{"/b/inner"});
  ASSERT_TRUE(drive_->Copy("alice", "/b", "/c", false).ok());
  EXPECT_EQ(Find("plan"), (Paths{"/b/plan.xls", "/c/plan.xls"}));
}

TEST_F(SearchTest, ReplacementUpdatesSizeAndOverwriteDropsTheOldName) {
  ASSERT_TRUE(Write("alice", "/notes", "1").ok());
  ASSERT_TRUE(Write("alice", "/notes", "123").ok());
  EXPECT_EQ((*drive_->Search("alice", "notes"))[0].size, 3u);
  ASSERT_TRUE(Write("alice", "/memo", "m").ok());
  ASSERT_TRUE(drive_->Move("alice", "/memo", "/notes", true).ok());
  EXPECT_TRUE(Find("memo").empty());
  EXPECT_EQ(Find("notes"), Paths{"/notes"});
}

TEST_F(SearchTest, BadQueriesAndOtherUsers) {
  EXPECT_TRUE(absl::IsInvalidArgument(drive_->Search("alice", "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(drive_->Search("alice", "-- ..").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(drive_->Search("alice", std::string(257, 'a')).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(drive_->Search("alice", "\xff\xfe").status()));
  ASSERT_TRUE(Write("alice", "/private.txt", "p").ok());
  EXPECT_TRUE(Find("private", "bob").empty());
}

TEST_F(SearchTest, TheRarestWordLeadsSoACommonWordHidesNoMatch) {
  // More names with "report" than a query scans (5,000 cells), and one that also has "n4711".
  // Written as the index holds them (one cell per word), since 5,000 uploads would be slow.
  for (int i = 0; i < 6000; ++i) Index("/r/report " + std::to_string(10000 + i));
  Index("/r/report n4711");
  Index("/r/zz n4711 budget");
  EXPECT_EQ(Find("report n4711"), Paths{"/r/report n4711"});
  EXPECT_EQ(Find("n4711 rep"), Paths{"/r/report n4711"});
  EXPECT_EQ(Find("n4711"), (Paths{"/r/report n4711", "/r/zz n4711 budget"}));
  EXPECT_EQ(drive_->Search("alice", "report", 200)->size(), 200u);
  EXPECT_TRUE(Find("report nothing").empty());
}

TEST_F(SearchTest, TwoCommonWordsReadOnInTheRangeWithMoreMatches) {
  // "report" has 6,000 names before any match, past what a query scans; "zeta" has 3,000
  // names, one in ten of them with "report" too, so its first page already holds matches.
  for (int i = 0; i < 6000; ++i) Index("/r/report " + std::to_string(10000 + i));
  for (int i = 0; i < 3000; ++i) {
    Index("/s/zeta " + std::to_string(10000 + i) + (i % 10 == 0 ? " report" : ""));
  }
  auto found = drive_->Search("alice", "report zeta", 200);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->size(), 200u);
  for (const NameMatch& m : *found) EXPECT_TRUE(m.name.ends_with(" report")) << m.path;
  EXPECT_EQ(drive_->Search("alice", "zeta rep", 200)->size(), 200u);
}

TEST_F(SearchTest, TwoCommonWordsThatMeetLateAreFoundBySkippingAhead) {
  // Thousands of names hold each word and the few that hold both sort after all of them, past
  // any first page and past what reading on in one range from its start would reach soon.
  for (int i = 0; i < 6000; ++i) {
    Index("/a/alpha " + std::to_string(10000 + i));
    Index("/b/beta " + std::to_string(10000 + i));
  }
  const Paths late{"/z/alpha beta 1", "/z/alpha beta 2", "/z/beta 3 alpha"};
  for (const std::string& path : late) Index(path);
  kvs::CountingClient counting(kvs_);
  Drive drive(&counting);
  for (const char* query : {"alpha beta", "beta alpha", "alp be"}) {
    auto found = drive.Search("alice", query, 200);
    ASSERT_TRUE(found.ok()) << found.status();
    Paths paths;
    for (const NameMatch& m : *found) paths.push_back(m.path);
    EXPECT_EQ(paths, late) << query;
  }
  // The first pages, a read where each word's range goes on, and a few seeks per query.
  EXPECT_LE(counting.lists(), 3 * 8);
  EXPECT_LE(counting.cells_read(), 3 * 8 * 1000);
}

// Random names from words that start one another ("car", "card", "cart"), interleaved in
// shared folders, against every query of one to three of their prefixes: a search finds
// exactly the names holding all its words, however the ranges interleave.
TEST_F(SearchTest, MultiWordSearchFindsExactlyTheNamesHoldingEveryWord) {
  const Paths vocabulary{"car",  "card", "cart", "cargo", "carbon", "care", "career", "cash",
                         "cask", "cat",  "dog",  "dot",   "dove",   "x1",   "x2",     "x3",
                         "x4",   "x5",   "x6",   "x7",    "x8",     "x9",   "x10"};
  std::mt19937 random(16);
  std::map<std::string, Paths> names;  // path -> its words
  for (int i = 0; i < 4000; ++i) {
    Paths words;
    std::string name;
    for (size_t n = 1 + random() % 3; n > 0; --n) {
      words.push_back(vocabulary[random() % vocabulary.size()]);
      name += words.back() + " ";
    }
    std::string path = "/f" + std::to_string(random() % 7) + "/" + name + std::to_string(i);
    Index(path);
    words.push_back(std::to_string(i));
    names[path] = words;
  }
  const Paths prefixes{"ca", "car", "card", "cas", "d", "do", "dov", "x", "x1", "cat"};
  for (int q = 0; q < 60; ++q) {
    Paths query;
    for (size_t n = 2 + random() % 2; n > 0; --n)
      query.push_back(prefixes[random() % prefixes.size()]);
    Paths expected;
    for (const auto& [path, words] : names) {
      if (std::all_of(query.begin(), query.end(), [&](const std::string& q) {
            return std::any_of(words.begin(), words.end(),
                               [&](const std::string& w) { return w.starts_with(q); });
          })) {
        expected.push_back(path);
      }
    }
    std::string text = absl::StrJoin(query, " ");
    auto found = drive_->Search("alice", text, kMaxSearchResults);
    ASSERT_TRUE(found.ok()) << found.status();
    Paths paths;
    for (const NameMatch& m : *found) paths.push_back(m.path);
    if (expected.size() <= static_cast<size_t>(kMaxSearchResults)) {
      std::sort(paths.begin(), paths.end());
      EXPECT_EQ(paths, expected) << text;
    } else {
      EXPECT_EQ(paths.size(), static_cast<size_t>(kMaxSearchResults)) << text;
      for (const std::string& path : paths) {
        EXPECT_TRUE(std::binary_search(expected.begin(), expected.end(), path)) << text << path;
      }
    }
  }
}

// Cells that name nothing (a crash cut their change short, a moment ago, so no search deletes
// them yet) sort before the names that exist: the check drops them and the search reads on
// until its results are full, but only so many times, however many such cells there are.
TEST_F(SearchTest, DroppedCellsMakeRoomForMoreMatchesAFewTimes) {
  pb::NameHit fresh;
  fresh.set_indexed_ms(clock_);
  std::string hit;
  fresh.SerializeToString(&hit);
  auto leave_cells = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string path = "/a/report " + std::to_string(10000 + i);
      ASSERT_TRUE(kvs_.Put(keys::NamesRow("alice"), keys::NameColumn("report", path), hit).ok());
    }
  };
  leave_cells(0, 25);
  for (int i = 0; i < 20; ++i) Index("/b/report " + std::to_string(10000 + i));
  auto found = drive_->Search("alice", "report", 10);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 10u);
  for (const NameMatch& m : *found) EXPECT_TRUE(m.path.starts_with("/b/")) << m.path;
  EXPECT_EQ(drive_->Search("alice", "report", 200)->size(), 20u);

  // Past a few batches of dropped cells the search gives up reading on, its reads bounded.
  leave_cells(25, 3000);
  kvs::CountingClient counting(kvs_);
  Drive drive(&counting);
  found = drive.Search("alice", "report", 10);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->empty());
  // A first page, then five batches of ten: their entries and the dropped cells' values.
  EXPECT_LE(counting.cells_read(), 500 + 5 * 10 * 2 + 5);
}

TEST_F(SearchTest, ResultsAreBounded) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Write("alice", "/photo " + std::to_string(i), "x").ok());
  }
  EXPECT_EQ(drive_->Search("alice", "photo", 10)->size(), 10u);
  EXPECT_EQ(drive_->Search("alice", "photo", 1000)->size(), 30u);
}

}  // namespace
}  // namespace penncloud::drive
