// Crashes between the mailbox's writes and the index's: a client that "dies" after its
// k-th write (every later call fails, as if the process were killed there), for every k
// through a delivery, a merge of the index, a move, flag changes and a removal. After a restart (a
// new store over what was written), searches must show every message that exists and nothing else,
// and once the leftovers are past the grace period, the repair path must clear them.
#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvs/client/dying_client.h"
#include "mail/search_oracle.h"
#include "mail/search_segments.h"
#include "mail/search_test_support.h"

namespace penncloud::mail {
namespace {

const char* const kQueries[] = {"apple",     "banana",   "apple banana",
                                "is:unread", "in:trash", "in:inbox apple",
                                "from:bob",  "cherry",   "after:2025-01-01"};

// Every doc, unread cell and late marker of the index belongs to a message that exists,
// and every segment cell to a segment the manifest lists.
void ExpectNoLeftovers(kvs::Client& kvs, MailStore& store) {
  kvs::ListOptions options;
  options.limit = 100000;
  auto cells = kvs.List(SearchRow("alice"), options);
  ASSERT_TRUE(cells.ok());
  auto manifest = ReadManifest(kvs, "alice");
  ASSERT_TRUE(manifest.ok());
  for (const kvs::Cell& cell : cells->cells) {
    if (cell.column == "v" || cell.column == kManifestColumn) continue;
    if (std::string_view segment = SegmentOfColumn(cell.column); !segment.empty()) {
      const auto& listed = manifest->manifest.segments();
      EXPECT_TRUE(std::any_of(listed.begin(), listed.end(),
                              [&](const auto& s) { return s.name() == segment; }))
          << "unlisted segment cell " << cell.column;
      continue;
    }
    std::string id = cell.column.substr(cell.column.size() - 32);
    EXPECT_TRUE(store.Find("alice", id).ok()) << "leftover " << cell.column;
  }
}

TEST(SearchCrashTest, NoLostOrPhantomHitsAfterACrashAtAnyWrite) {
  int crash_points = 0;
  for (int writes = 0; writes < 2000; ++writes) {
    kvs::MemoryClient disk;
    int64_t now = testing::kStartMicros;
    auto clock = [&now] { return now += 1000; };
    std::string kept, moved, flagged;
    {
      MailStore before(disk, clock);
      kept =
          before.Add("alice", kInbox, testing::Mail("bob@x", "a@x", "apple", "one"), false)->id();
      moved =
          before.Add("alice", kInbox, testing::Mail("c@x", "a@x", "apple", "banana"), true)->id();
      flagged =
          before.Add("alice", kInbox, testing::Mail("bob@x", "a@x", "t", "banana"), true)->id();
      MailSearch(before).IndexOlderMessages("alice").IgnoreError();
    }
    // `writes` writes succeed; the next is the crash, not applied.
    kvs::DyingClient dying(disk, writes + 1, /*last_takes_effect=*/false);
    bool finished = false;
    {
      MailStore store(dying, clock);
      finished = store.Add("alice", kInbox, testing::Mail("bob@x", "a@x", "cherry", "apple"), false)
                     .ok() &&
                 // Past the merge's lag, so the merge folds the new message in.
                 (now += 1'000'000, MailSearch(store).Merge("alice").ok()) &&
                 store.Move("alice", moved, kTrash).ok() &&
                 store.SetSeen("alice", flagged, false).ok() &&
                 store.SetSeen("alice", kept, true).ok() && store.Remove("alice", kept).ok();
    }
    // The restart: a new process over what reached the store.
    MailStore store(disk, clock);
    MailSearch search(store);
    auto check = [&](std::string_view when) {
      for (const char* q : kQueries) {
        auto query = ParseSearchQuery(q);
        ASSERT_TRUE(query.ok());
        auto expected = testing::OracleSearch(store, "alice", *query);
        auto got = testing::SearchIds(search, "alice", q);
        // A move cut short leaves the message in both folders (mail_store.h); in: then
        // finds it in the folder the index last recorded. Otherwise: exactly the scan.
        if (std::string(q).starts_with("in:") && store.Entry("alice", kInbox, moved).ok() &&
            store.Entry("alice", kTrash, moved).ok()) {
          std::erase(expected, moved);
          std::erase(got, moved);
        }
        EXPECT_EQ(got, expected) << when << ", crash after " << writes << " writes, query " << q;
      }
    };
    check("after the restart");
    // Past the grace period a query that meets a leftover removes it, and the sweep
    // removes the rest.
    now += kRepairGrace + 1;
    auto cherry = ParseSearchQuery("cherry");
    ASSERT_TRUE(search.Search("alice", *cherry, "", 10).ok());
    auto repaired = search.Repair("alice");
    ASSERT_TRUE(repaired.ok()) << repaired.status();
    ExpectNoLeftovers(disk, store);
    check("after the repair");
    ++crash_points;
    if (finished) break;
  }
  EXPECT_GT(crash_points, 20);
}

}  // namespace
}  // namespace penncloud::mail
