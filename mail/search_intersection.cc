#include "mail/search_intersection.h"

#include <algorithm>

namespace penncloud::mail {
namespace {

// A list is read from a new place a small page at a time (another key may soon steer it
// further on), then in pages doubling while it is read on from where it stopped.
constexpr int kFirstPage = 32;
constexpr int kMaxPage = 1000;
// A checked list is judged once it has tested this many ids with a fresh page; it is
// dropped if at least half of them were in it (so the caller's check meets at most about
// one id without the key for each id with it).
constexpr int kTestsBeforeJudging = 4;

// The largest string below `id` of the same length (ids are printable, never end in
// '\0'), so "after Below(x)" includes x itself.
std::string Below(std::string id) {
  --id.back();
  return id;
}

}  // namespace

PostingIntersection::PostingIntersection(IndexSnapshot& index, std::vector<std::string> keys,
                                         std::string after, int budget,
                                         const std::vector<std::string>& checked)
    : index_(index),
      after_(std::move(after)),
      budget_(budget),
      tests_before_judging_(kTestsBeforeJudging) {
  for (std::string& key : keys) {
    lists_.emplace_back();
    lists_.back().checked = std::find(checked.begin(), checked.end(), key) != checked.end();
    lists_.back().key = std::move(key);
  }
  // The other keys first, so a checked one is read only at an id they agree on.
  std::stable_partition(lists_.begin(), lists_.end(), [](const List& l) { return !l.checked; });
}

absl::StatusOr<std::optional<std::string>> PostingIntersection::FirstAfter(
    List& list, const std::string& after) {
  while (true) {
    while (list.pos < list.page.size() && list.page[list.pos] <= after) ++list.pos;
    if (list.pos < list.page.size()) return list.page[list.pos];
    if (list.started && list.last_page) {
      exhausted_ = true;
      return std::nullopt;
    }
    if (budget_ <= 0) return std::nullopt;
    // From where this page ended or from `after`, whichever is further on.
    const bool reading_on = !list.page.empty() && list.page.back() >= after;
    const std::string from = reading_on ? list.page.back() : after;
    list.page_size = reading_on ? std::min(2 * list.page_size, kMaxPage) : kFirstPage;
    if (!reading_on) ++list.fresh_pages;
    auto page = index_.Postings(list.key, from, list.page_size);
    if (!page.ok()) return page.status();
    budget_ -= static_cast<int>(page->size()) + 1;
    list.started = true;
    list.last_page = static_cast<int>(page->size()) < list.page_size;
    list.page = std::move(*page);
    list.pos = 0;
  }
}

void PostingIntersection::JudgeChecked(List& list) {
  if (list.tests < tests_before_judging_ || 2 * list.confirmed < list.tests) return;
  const bool another_read = std::any_of(lists_.begin(), lists_.end(), [&](const List& other) {
    return &other != &list && !other.dropped;
  });
  list.dropped = another_read;
}

void PostingIntersection::Undrop() {
  bool any = false;
  for (List& list : lists_) {
    if (!list.dropped) continue;
    any = true;
    list.dropped = false;
    list.tests = list.confirmed = 0;
  }
  if (any) tests_before_judging_ *= 2;
}

absl::StatusOr<std::optional<std::string>> PostingIntersection::Next() {
  if (lists_.empty()) {
    exhausted_ = true;
    return std::nullopt;
  }
  std::string after = after_;
  while (true) {
    // Each list is sought to the furthest head of the lists before it: nothing before that
    // can be in every list.
    std::optional<std::string> furthest;
    bool all_agree = true;
    for (List& list : lists_) {
      if (list.dropped) continue;
      const int fresh_pages = list.fresh_pages;
      auto head = FirstAfter(list, furthest ? Below(*furthest) : after);
      if (!head.ok()) return head.status();
      if (!*head) return std::nullopt;
      if (list.checked && furthest && list.fresh_pages > fresh_pages) {
        ++list.tests;
        if (**head == *furthest) ++list.confirmed;
        JudgeChecked(list);
      }
      if (!furthest) {
        furthest = **head;
      } else if (**head != *furthest) {
        all_agree = false;
        if (**head > *furthest) furthest = **head;
      }
    }
    if (all_agree) {
      after_ = *furthest;
      return furthest;
    }
    after = Below(*furthest);
    after_ = after;
  }
}

}  // namespace penncloud::mail
