// The name index and name search. Every file and folder has one cell per folded word of its
// name in the user's names row, "<word>\0<path>" -> NameHit, written by the operation that
// changes the tree (upload, new folder, move, delete, restore). A query reads the cells
// whose word starts with one of its words (the lead), a range of one row, and checks each
// candidate's name for the other words; so its cost follows the number of matches, not the
// size of the tree. The lead is the query word with the fewest cells when one of them has
// less than a page of them: in a drive of 100,000 files "report n4711" reads the few cells
// of "n4711", not the thousands of "report" (where the match could lie past the scan bound).
#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/name_words.h"
#include "drive/path.h"

namespace penncloud::drive {
namespace {

constexpr int kPageSize = 500;
// A query reads at most this many index cells (one word prefix shared by many names).
constexpr int kMaxScannedCells = 5000;
constexpr int kMaxRecursion = static_cast<int>(kMaxDepth) + 2;
// Query words whose ranges are sized to pick the lead (the longest ones).
constexpr size_t kMaxProbedWords = 4;

std::string NameOf(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// True if every query word starts some word of the name.
bool AllWordsMatch(const std::vector<std::string>& query, const std::vector<std::string>& name) {
  return std::all_of(query.begin(), query.end(), [&](const std::string& q) {
    return std::any_of(name.begin(), name.end(),
                       [&](const std::string& w) { return w.starts_with(q); });
  });
}

// How many cells of `page` lie in `word`'s range (cells "<word...>\0<path>"), and whether
// the page shows the range's end.
struct RangeProbe {
  int cells = 0;
  bool whole = false;
};

bool InRange(const std::string& column, const std::string& word) {
  size_t nul = column.find('\0');
  return nul != std::string::npos && std::string_view(column).substr(0, nul).starts_with(word);
}

RangeProbe Probe(const kvs::ColumnPage& page, const std::string& word) {
  RangeProbe probe;
  for (const auto& cell : page.cells) {
    if (!InRange(cell.column, word)) return {probe.cells, true};
    ++probe.cells;
  }
  return {probe.cells, !page.more};
}

// The first page of the lead word's range, read from `after` = the word: the word with the
// fewest cells among those whose range fits in one page, else the first (longest) word.
// `words` is sorted longest first; the lead is moved to its front.
absl::StatusOr<kvs::ColumnPage> FirstPageOfLead(kvs::Client* kvs, const std::string& row,
                                                std::vector<std::string>& words) {
  std::optional<kvs::ColumnPage> best;
  size_t best_word = 0;
  int best_cells = 0;
  for (size_t i = 0; i < words.size() && i < kMaxProbedWords; ++i) {
    auto page = kvs->List(row, {.after = words[i], .limit = kPageSize, .with_values = true});
    if (!page.ok()) return page.status();
    RangeProbe probe = Probe(*page, words[i]);
    if (i == 0 || (probe.whole && probe.cells < best_cells)) {
      best = *std::move(page);
      best_word = i;
      best_cells = probe.whole ? probe.cells : kMaxScannedCells;
    }
    if (probe.whole && probe.cells == 0) break;  // nothing can match
  }
  std::swap(words[0], words[best_word]);
  return *std::move(best);
}

}  // namespace

void Drive::IndexPut(const std::string& user, const std::string& path, const pb::Entry& entry) {
  pb::NameHit hit;
  hit.set_folder(IsFolder(entry));
  hit.set_size(IsFolder(entry) ? 0 : entry.size());
  hit.set_modified_ms(entry.modified_ms());
  std::string raw;
  hit.SerializeToString(&raw);
  for (const auto& word : FoldedWords(NameOf(path))) {
    std::string column = keys::NameColumn(word, path);
    if (column.size() > kvs::kMaxKeyBytes) continue;  // a path near the limit stays unfound
    if (auto s = kvs_->Put(keys::NamesRow(user), column, raw); !s.ok()) {
      PC_LOG(kWarn, "drive.index_failed")("user", user)("error", s);
    }
  }
}

void Drive::IndexRemove(const std::string& user, const std::string& path) {
  for (const auto& word : FoldedWords(NameOf(path))) {
    if (auto s = kvs_->Delete(keys::NamesRow(user), keys::NameColumn(word, path)); !s.ok()) {
      PC_LOG(kWarn, "drive.index_failed")("user", user)("error", s);
    }
  }
}

void Drive::IndexTree(const std::string& user, const std::string& path, const pb::Entry& entry,
                      bool add, int depth) {
  if (add) {
    IndexPut(user, path, entry);
  } else {
    IndexRemove(user, path);
  }
  if (!IsFolder(entry) || depth > kMaxRecursion) return;
  kvs::ListOptions opts{.after = "", .limit = kPageSize, .with_values = true};
  for (int page_no = 0; page_no < 100000; ++page_no) {
    auto page = kvs_->List(keys::TreeRow(user, entry.folder_id()), opts);
    if (!page.ok()) {
      PC_LOG(kWarn, "drive.index_failed")("user", user)("error", page.status());
      return;
    }
    for (const auto& cell : page->cells) {
      auto child = ParseEntry(cell.value);
      if (child.ok()) IndexTree(user, absl::StrCat(path, "/", cell.column), *child, add, depth + 1);
    }
    if (!page->more || page->cells.empty()) return;
    opts.after = page->cells.back().column;
  }
}

absl::StatusOr<std::vector<NameMatch>> Drive::Search(std::string_view user, std::string_view query,
                                                     int limit) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  if (query.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the search is longer than ", kMaxQueryBytes, " bytes"));
  }
  if (auto s = ValidateUtf8(query); !s.ok()) return s;
  auto words = FoldedWords(query);
  if (words.empty()) return absl::InvalidArgumentError("the search has no letters or digits");
  limit = std::clamp(limit, 1, kMaxSearchResults);
  // Longest first: when no word's range is known to be short, the longest narrows the most.
  std::stable_sort(words.begin(), words.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  const std::string row = keys::NamesRow(std::string(user));
  auto page = FirstPageOfLead(kvs_, row, words);
  if (!page.ok()) return page.status();
  const std::string& lead = words.front();

  std::vector<NameMatch> out;
  std::set<std::string> seen;
  int scanned = 0;
  for (bool past_lead = false;;) {
    for (const auto& cell : page->cells) {
      if (++scanned > kMaxScannedCells || static_cast<int>(out.size()) >= limit) break;
      if (!InRange(cell.column, lead)) {
        past_lead = true;
        break;
      }
      std::string path = cell.column.substr(cell.column.find('\0') + 1);
      if (!seen.insert(path).second) continue;
      std::string name = NameOf(path);
      if (words.size() > 1 && !AllWordsMatch(words, FoldedWords(name))) continue;
      pb::NameHit hit;
      if (!hit.ParseFromString(cell.value)) continue;
      out.push_back(NameMatch{.path = path,
                              .name = name,
                              .folder = hit.folder(),
                              .size = hit.size(),
                              .modified_ms = hit.modified_ms()});
    }
    if (past_lead || !page->more || page->cells.empty() || scanned >= kMaxScannedCells ||
        static_cast<int>(out.size()) >= limit) {
      break;
    }
    page = kvs_->List(
        row, {.after = page->cells.back().column, .limit = kPageSize, .with_values = true});
    if (!page.ok()) return page.status();
  }
  std::sort(out.begin(), out.end(), [](const NameMatch& a, const NameMatch& b) {
    return a.name != b.name ? a.name < b.name : a.path < b.path;
  });
  return out;
}

}  // namespace penncloud::drive
