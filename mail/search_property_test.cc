// A random mailbox, changed at random, and random queries: the index's answer must equal a
// brute-force scan of every message (search_oracle.h), page after page.
#include <random>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mail/search_oracle.h"
#include "mail/search_test_support.h"

namespace penncloud::mail {
namespace {

const std::vector<std::string> kWords = {"alpha",
                                         "beta",
                                         "gamma",
                                         "delta",
                                         "report",
                                         "budget",
                                         "lunch",
                                         "caf\xc3\xa9",
                                         "Stra\xc3\x9f"
                                         "e",
                                         "plan",
                                         "x1",
                                         "2026",
                                         "meeting",
                                         "TOKYO",
                                         "\xe6\x9d\xb1\xe4\xba\xac"};
const std::vector<std::string> kPeople = {"Bob <bob@example.com>", "carol@example.org",
                                          "Dave Smith <dave@example.net>", "erin@penncloud.local"};
const std::vector<std::string> kFolders = {"inbox", "sent", "trash", "Work"};

class SearchPropertyTest : public ::testing::TestWithParam<int> {
 protected:
  std::string Pick(const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng_)];
  }
  int Roll(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string Text(int max_words) {
    std::string out;
    for (int i = Roll(max_words + 1); i > 0; --i) out += Cat(Pick(kWords), Roll(4) ? " " : ", ");
    return out;
  }
  std::string Message() {
    if (Roll(6) == 0) return testing::WithAttachment(Text(3), Cat(Pick(kWords), ".pdf"));
    return testing::Mail(Pick(kPeople), Pick(kPeople), Text(3), Text(12),
                         Roll(3) == 0 ? Cat("Cc: ", Pick(kPeople), "\r\n") : "");
  }
  std::string Date() {
    return absl::FormatTime("%Y-%m-%d",
                            absl::FromUnixMicros(testing::kStartMicros + Roll(8) * 86400'000'000LL),
                            absl::UTCTimeZone());
  }
  std::string Query() {
    std::string q;
    bool used[10] = {};  // in:, before:/after: may appear once
    for (int n = 1 + Roll(3); n > 0; --n) {
      int kind = Roll(10);
      if ((kind == 3 || kind == 6) && used[kind]) kind = 9;
      used[kind] = true;
      switch (kind) {
        case 0:
          q += Cat("from:", Pick({"bob", "carol", "smith", "example.com"}));
          break;
        case 1:
          q += Cat("to:", Pick({"bob", "erin", "dave", "example.org"}));
          break;
        case 2:
          q += Cat("subject:", Pick(kWords));
          break;
        case 3:
          q += Cat("in:", Pick(kFolders));
          break;
        case 4:
          q += "is:unread";
          break;
        case 5:
          q += "has:attachment";
          break;
        case 6:
          q += Cat(Roll(2) ? "before:" : "after:", Date());
          break;
        case 7:
          q += Cat("\"", Pick(kWords), " ", Pick(kWords), "\"");
          break;
        default:
          q += Pick(kWords);
      }
      q += " ";
    }
    return q;
  }

  std::mt19937 rng_{static_cast<uint32_t>(GetParam())};
  kvs::MemoryClient kvs_;
  int64_t now_ = testing::kStartMicros;
  MailStore store_{kvs_, [this] { return now_ += 1000; }};
  MailSearch search_{store_};
};

TEST_P(SearchPropertyTest, IndexAgreesWithAScan) {
  ASSERT_TRUE(store_.CreateFolder("alice", "Work").ok());
  // A mailbox searched from the start: no migration of older mail fills in for the index.
  EXPECT_TRUE(testing::SearchIds(search_, "alice", "is:unread").empty());
  std::vector<std::string> ids;
  for (int i = 0; i < 120; ++i) {
    now_ += Roll(3) == 0 ? 86400'000'000LL : 60'000'000;
    auto meta = store_.Add("alice", Pick(kFolders), Message(), Roll(2) == 0);
    ASSERT_TRUE(meta.ok()) << meta.status();
    ids.push_back(meta->id());
    // Some messages are folded into segments (of several sizes), the rest stay pending.
    if (Roll(12) == 0) {
      ASSERT_TRUE(search_.Merge("alice").ok());
    }
  }
  for (int i = 0; i < 60; ++i) {
    const std::string id = ids[Roll(static_cast<int>(ids.size()))];
    auto meta = store_.Find("alice", id);
    if (!meta.ok()) continue;  // removed earlier
    switch (Roll(4)) {
      case 0:
        ASSERT_TRUE(store_.Move("alice", id, Pick(kFolders)).ok());
        break;
      case 1:
        ASSERT_TRUE(store_.SetSeen("alice", id, Roll(2) == 0).ok());
        break;
      case 2:
        ASSERT_TRUE(store_.Remove("alice", id).ok());
        break;
      default: {
        auto copy = store_.Copy("alice", *meta, Pick(kFolders));
        ASSERT_TRUE(copy.ok());
        ids.push_back(copy->id());
      }
    }
    if (Roll(20) == 0) {
      ASSERT_TRUE(search_.Merge("alice").ok());
    }
  }
  auto agree = [&](int queries, const std::string& prefix) {
    for (int i = 0; i < queries; ++i) {
      std::string q = Cat(prefix, Query());
      auto query = ParseSearchQuery(q);
      ASSERT_TRUE(query.ok()) << q << ": " << query.status();
      EXPECT_EQ(testing::SearchIds(search_, "alice", q, 1 + Roll(20)),
                testing::OracleSearch(store_, "alice", *query))
          << "query: " << q;
    }
  };
  agree(80, "");
  // Reading and unreading, with merges between (a merge writes the unread cells of the
  // docs it folds) and queries between (which drop the cells they find spare).
  for (int i = 0; i < 60; ++i) {
    const std::string id = ids[Roll(static_cast<int>(ids.size()))];
    auto changed = store_.SetSeen("alice", id, Roll(3) != 0);
    ASSERT_TRUE(changed.ok() || absl::IsNotFound(changed)) << changed;
    if (Roll(6) == 0) {
      now_ += 1'000'000;
      ASSERT_TRUE(search_.Merge("alice").ok());
    }
    if (Roll(6) == 0) agree(1, "is:unread ");
  }
  agree(40, "is:unread ");
}

INSTANTIATE_TEST_SUITE_P(Seeds, SearchPropertyTest, ::testing::Range(1, 6));

}  // namespace
}  // namespace penncloud::mail
