// Walks the ids that have every one of several posting keys, newest first, reading each
// key's postings a page at a time and skipping ahead (leapfrog): a page is fetched from
// the id the other keys agree could come next, so rare keys steer past the common ones.
//
// A key the caller checks on every id itself ("checked": a folder's or "~unread", which
// the query checks on the message's entry) is read from the store, one listing for each
// page from a new place, one after another. When such a key holds most of the ids the
// other keys agree on, it steers nothing: every candidate costs a listing that only says
// yes. The walk then stops reading it (it is dropped) and leaves it to the caller's check,
// which reads each candidate's entry anyway, many at once. If the caller's check then finds
// that most ids lack a checked key (the unread messages were only the newest, say), it says
// so (Undrop) and the walk reads the key again, as far as its end.
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
  // postings are read in all. `checked` (some of `keys`) may be dropped as above.
  PostingIntersection(IndexSnapshot& index, std::vector<std::string> keys, std::string after,
                      int budget, const std::vector<std::string>& checked = {});

  // The next id with every key not dropped; nullopt when there is none or the budget is
  // spent (then exhausted() tells which).
  absl::StatusOr<std::optional<std::string>> Next();
  // The caller found most of the last ids without a checked key: read the dropped keys
  // again, and judge them again only after twice as many tests as last time.
  void Undrop();
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
    bool checked = false;
    bool dropped = false;
    int fresh_pages = 0;  // pages read from a new place, not on from the last one
    // Of a checked list's fresh pages, those read to test an id the lists before it agreed
    // on, and those whose first id was that id.
    int tests = 0;
    int confirmed = 0;
  };
  // The first id of `list` strictly after `after`; nullopt if none or out of budget.
  absl::StatusOr<std::optional<std::string>> FirstAfter(List& list, const std::string& after);
  // Drops `list` if its fresh pages mostly confirm the ids they test and another list is
  // still read.
  void JudgeChecked(List& list);

  IndexSnapshot& index_;
  std::vector<List> lists_;
  std::string after_;
  int budget_;
  int tests_before_judging_;
  bool exhausted_ = false;
};

}  // namespace penncloud::mail
