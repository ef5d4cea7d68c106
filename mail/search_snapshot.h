// One query's view of a user's index (search_index.h): the manifest and the pending docs,
// read once; a key's postings gathered from every segment and the pending docs, except
// "~unread", gathered from the pending docs and the unread cells (search_index.h), so an
// unread query reads as many cells as there are unread messages, not the whole mailbox; a
// folder key's postings paged from the mailbox row itself.
// Docs are never deleted by a merge, so the manifest and the docs newer than its frontier
// describe every indexed message, whatever merges run meanwhile.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
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

  // Whether "~unread" came from `id`'s unread cell (gathered by an earlier Postings).
  bool HasUnreadCell(std::string_view id) const;

 private:
  IndexSnapshot(kvs::Client& kvs, std::string_view user);
  absl::StatusOr<std::vector<std::string>> FolderPostings(std::string_view folder,
                                                          std::string_view after, int limit);
  absl::StatusOr<const std::vector<std::string>*> Gathered(std::string_view key);

  kvs::Client* kvs_;
  std::string user_;
  pb::SearchManifest manifest_;
  std::vector<std::pair<std::string, pb::SearchDoc>> pending_;  // id, doc
  bool partial_ = false;
  std::map<std::string, std::vector<std::string>, std::less<>> gathered_;
  std::vector<std::string> unread_cells_;  // ids, ascending (the column order)
};

}  // namespace penncloud::mail
