// Answers searches from the full-text index (search_index.h), checking every hit against
// the mailbox, so a query never shows a message that is gone, moved or changed, and never
// misses one the index had written before the message appeared.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/mail_store.h"
#include "mail/search_query.h"
#include "mail/search_snapshot.h"

namespace penncloud::mail {

inline constexpr int kMaxSearchPage = 100;
// Postings one query reads at most; past it the page ends early with a cursor, so a query
// whose words rarely meet stays bounded.
inline constexpr int kSearchScanBudget = 50000;

struct SearchPage {
  std::vector<pb::MessageMeta> messages;  // newest first
  std::string next_cursor;                // "" when nothing more can match
};

class MailSearch {
 public:
  explicit MailSearch(MailStore& store);

  // One page of hits (1..kMaxSearchPage), after `cursor` (from a previous page, or "").
  // The first search of a mailbox indexes the messages stored before the index existed.
  absl::StatusOr<SearchPage> Search(std::string_view user, const SearchQuery& query,
                                    std::string_view cursor, int limit);

  // The ids whose index has every word of `words` (not empty) anywhere (IMAP TEXT), in
  // any folder, before any check against the mailbox: a superset the caller narrows (IMAP
  // to the folder it has listed already, so no page of the mailbox row is read here).
  absl::StatusOr<std::set<std::string>> Candidates(std::string_view user,
                                                   const std::vector<std::string>& words);

  // Once per mailbox: indexes every message that has no index entry yet, carries a layout-1
  // index's unread postings over, and merges.
  absl::Status IndexOlderMessages(std::string_view user);

  // Folds the pending docs into segments (search_merge.h), after a merge another process
  // is running; queries merge (briefly) when many docs pend.
  absl::Status Merge(std::string_view user);

  // The sweep of the repair path: removes the index entries of every message that does not
  // exist and whose id is older than kRepairGrace (queries remove only those they meet),
  // the cells of segments no manifest lists (a crashed merge's) and the postings of
  // layout 1. Returns how many messages' entries it removed.
  absl::StatusOr<int> Repair(std::string_view user);

 private:
  // The index as one query sees it, merged first if many docs pend.
  absl::StatusOr<IndexSnapshot> Snapshot(std::string_view user);
  absl::StatusOr<SearchPage> SearchOnce(std::string_view user, const SearchQuery& query,
                                        std::string_view cursor, int limit);
  // The message behind a posting, if it still exists (kNotFound if not; a doc left by a
  // delivery that never finished or a removal cut short is removed once past kRepairGrace).
  // Its entry is looked for in `likely_folder` first (if not empty), and only if it is not
  // there in the folder its doc names.
  absl::StatusOr<pb::MessageMeta> Resolve(std::string_view user, const std::string& id,
                                          std::string_view likely_folder = "");
  // Deletes the cells under `prefix` for which `stale(column)` holds.
  absl::Status SweepCells(std::string_view user, std::string_view prefix,
                          const std::function<absl::StatusOr<bool>(const std::string&)>& stale);
  absl::StatusOr<bool> Matches(std::string_view user, const SearchQuery& query,
                               const pb::MessageMeta& meta);
  // Whether `id` is older than kRepairGrace: no delivery of it can still be writing.
  bool Abandoned(std::string_view id);
  // Drops the unread cell of a message read or gone, unless it turns out unread after all.
  absl::Status DropSpareUnreadCell(std::string_view user, const std::string& id);

  MailStore& store_;
};

// The query's posting keys, the special ones included (never empty: "~all" at least).
std::vector<std::string> QueryKeys(const SearchQuery& query);

}  // namespace penncloud::mail
