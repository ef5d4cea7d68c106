// Walks the ids that have every one of several posting keys, newest first, reading each
// key's postings a page at a time and skipping ahead (leapfrog): a page is fetched from
// the id the other keys agree could come next, so rare keys steer past the common ones.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/search_snapshot.h"

namespace penncloud::mail {

class PostingIntersection {
 public:
  // Ids strictly after `after` (an id, a cursor from position(), or ""). At most `budget`
  // postings are read in all.
  PostingIntersection(IndexSnapshot& index, std::vector<std::string> keys, std::string after,
                      int budget);

  // The next id with every key; nullopt when there is none or the budget is spent
  // (then exhausted() tells which).
  absl::StatusOr<std::optional<std::string>> Next();
  bool exhausted() const { return exhausted_; }
  // Everything up to here has been returned or ruled out; resume after it.
  const std::string& position() const { return after_; }

 private:
  struct List {
    std::string key;
    std::vector<std::string> page;  // ascending
    int page_size = 0;              // asked for when `page` was read
    size_t pos = 0;
    bool last_page = false;
    bool started = false;
  };
  // The first id of `list` strictly after `after`; nullopt if none or out of budget.
  absl::StatusOr<std::optional<std::string>> FirstAfter(List& list, const std::string& after);

  IndexSnapshot& index_;
  std::vector<List> lists_;
  std::string after_;
  int budget_;
  bool exhausted_ = false;
};

}  // namespace penncloud::mail
