// One query's view of a user's index (search_index.h): the manifest and the pending docs,
// read once. A key's postings merge, page by page, its lists in every segment (located
// once, decoded only as far as they are read) and the pending docs', except "~unread":
// the pending docs' and the unread cells (search_index.h), listed from the store as far as
// the query reads, so an unread query reads at most as many cells as there are unread
// messages, not the whole mailbox; a folder key's postings are paged from the mailbox row
// itself. A page costs what it returns, not the length of the whole list (a common word
// is in nearly every message).
// Docs are never deleted by a merge, so the manifest and the docs newer than its frontier
// describe every indexed message, whatever merges run meanwhile.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "mail/search_segments.h"
#include "proto/mail_search.pb.h"

namespace penncloud::mail {

class IndexSnapshot {
 public:
  // Reads the manifest and the pending docs, at most `max_pending` of them (all if
  // negative): partial() then tells that more are pending and the view is not complete.
  static absl::StatusOr<IndexSnapshot> Load(kvs::Client& kvs, std::string_view user,
                                            int max_pending);

  bool partial() const { return partial_; }
  size_t pending() const { return pending_.size(); }

  // Message ids with `key`, ascending (newest first), strictly after `after`, at most
  // `limit`. kAborted if a segment was replaced since Load (load again).
  absl::StatusOr<std::vector<std::string>> Postings(std::string_view key, std::string_view after,
                                                    int limit);

  // Finds where `keys` are in every segment, reading the blocks they need together (a
  // query's keys are located at once; Postings locates a key not located yet by itself).
  absl::Status Locate(const std::vector<std::string>& keys);

  // Whether "~unread" came from `id`'s unread cell (listed by an earlier Postings).
  bool HasUnreadCell(std::string_view id) const;

 private:
  IndexSnapshot(kvs::Client& kvs, std::string_view user);
  absl::StatusOr<std::vector<std::string>> FolderPostings(std::string_view folder,
                                                          std::string_view after, int limit);
  // Where a key's postings are: the pending docs' ids, ascending, and its list in each
  // segment.
  struct KeyLists {
    std::vector<std::string> pending;
    std::vector<PackedPostings> segments;
  };
  absl::StatusOr<const KeyLists*> Located(std::string_view key);
  absl::StatusOr<std::vector<std::string>> UnreadCells(std::string_view after, int limit);

  kvs::Client* kvs_;
  std::string user_;
  pb::SearchManifest manifest_;
  std::vector<std::pair<std::string, pb::SearchDoc>> pending_;  // id, doc
  bool partial_ = false;
  std::map<std::string, KeyLists, std::less<>> located_;
  std::set<std::string, std::less<>> unread_cells_;  // ids of the cells listed so far
};

}  // namespace penncloud::mail
