#include "mail/search_intersection.h"

#include <algorithm>

namespace penncloud::mail {
namespace {

// A list is read from a new place a small page at a time (another key may soon steer it
// further on), then in pages doubling while it is read on from where it stopped.
constexpr int kFirstPage = 32;
constexpr int kMaxPage = 1000;

// The largest string below `id` of the same length (ids are printable, never end in
// '\0'), so "after Below(x)" includes x itself.
std::string Below(std::string id) {
  --id.back();
  return id;
}

}  // namespace

PostingIntersection::PostingIntersection(IndexSnapshot& index, std::vector<std::string> keys,
                                         std::string after, int budget)
    : index_(index), after_(std::move(after)), budget_(budget) {
  for (std::string& key : keys) {
    lists_.emplace_back();
    lists_.back().key = std::move(key);
  }
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
    auto page = index_.Postings(list.key, from, list.page_size);
    if (!page.ok()) return page.status();
    budget_ -= static_cast<int>(page->size()) + 1;
    list.started = true;
    list.last_page = static_cast<int>(page->size()) < list.page_size;
    list.page = std::move(*page);
    list.pos = 0;
  }
}

absl::StatusOr<std::optional<std::string>> PostingIntersection::Next() {
  if (lists_.empty()) {
    exhausted_ = true;
    return std::nullopt;
  }
  std::string after = after_;
  while (true) {
    std::optional<std::string> agreed;
    bool all_agree = true;
    for (List& list : lists_) {
      auto head = FirstAfter(list, after);
      if (!head.ok()) return head.status();
      if (!*head) return std::nullopt;
      if (!agreed) {
        agreed = **head;
      } else if (**head != *agreed) {
        all_agree = false;
        if (**head > *agreed) agreed = **head;
      }
    }
    if (all_agree) {
      after_ = *agreed;
      return agreed;
    }
    // Nothing before the furthest head can be in every list.
    after = Below(*agreed);
    after_ = after;
  }
}

}  // namespace penncloud::mail
