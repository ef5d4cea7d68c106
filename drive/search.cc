// The name index and name search. Every file and folder has one cell per folded word of its
// name in the user's names row, "<word>\0<path>" -> NameHit, written by the operation that
// changes the tree (upload, new folder, move, delete, restore). A query reads cells whose
// word starts with one of its words, a range of one row, and checks each candidate's name for
// the other words; so its cost follows the number of matches, not the size of the tree.
// Every match lies in every query word's range: the first page of each word's range is read
// at once (the four longest words), a range seen whole holds all the matches, and otherwise the
// range whose first page held the most matches is read on. In a drive of 100,000 files "report
// n4711" reads the few cells of "n4711", not the thousands of "report" (where the match could lie
// past the scan bound), and "budget tundra" reads on where the Tundra names are, not through every
// budget.
#include <algorithm>
#include <functional>
#include <future>
#include <string_view>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/name_words.h"
#include "drive/path.h"

namespace penncloud::drive {
namespace {

// A probe's first page of a word's range.
constexpr int kPageSize = 500;
// Reading on in the lead's range: the store's largest page, for the fewest round trips.
constexpr int kMaxPageSize = 1000;
// The lead's range is read for at most this many cells (one word prefix shared by many names).
constexpr int kMaxScannedCells = 5000;
constexpr int kMaxRecursion = static_cast<int>(kMaxDepth) + 2;
// Query words whose first pages are read (the longest ones).
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

// What one page showed of one word's range (its cells "<word...>\0<path>").
struct PageScan {
  int cells = 0;       // cells of the page in the range
  int matches = 0;     // new matches among them
  bool whole = false;  // the range ends within the page
};

// The matches of one query, gathered from pages of any of its words' ranges: a name that
// holds every query word lies in every word's range. The index cell holds all an answer
// shows, so a match costs no read of its own.
class Matches {
 public:
  Matches(const std::vector<std::string>& words, int limit) : words_(words), limit_(limit) {}

  bool full() const { return static_cast<int>(found_.size()) >= limit_; }

  PageScan Scan(const kvs::ColumnPage& page, std::string_view word) {
    PageScan scan;
    for (const kvs::Cell& cell : page.cells) {
      if (full()) return scan;
      std::string_view column = cell.column;
      size_t nul = column.find('\0');
      if (nul == std::string_view::npos || !column.substr(0, nul).starts_with(word)) {
        scan.whole = true;
        return scan;
      }
      ++scan.cells;
      std::string_view path = column.substr(nul + 1);
      std::string name = NameOf(path);
      if (words_.size() > 1 && !AllWordsMatch(words_, FoldedWords(name))) continue;
      if (!paths_.emplace(path).second) continue;  // another word of the name led here
      pb::NameHit hit;
      if (!hit.ParseFromString(cell.value)) continue;
      found_.push_back(NameMatch{.path = std::string(path),
                                 .name = std::move(name),
                                 .folder = hit.folder(),
                                 .size = hit.size(),
                                 .modified_ms = hit.modified_ms()});
      ++scan.matches;
    }
    scan.whole = !page.more;
    return scan;
  }

  // Sorted by name.
  std::vector<NameMatch> Take() {
    std::sort(found_.begin(), found_.end(), [](const NameMatch& a, const NameMatch& b) {
      return a.name != b.name ? a.name < b.name : a.path < b.path;
    });
    return std::move(found_);
  }

 private:
  const std::vector<std::string>& words_;
  const int limit_;
  std::vector<NameMatch> found_;
  std::unordered_set<std::string> paths_;  // of found_
};

// Runs `write` on each column at once and logs the failures: the store gathers concurrent
// writes into one batch, so a name's cells cost about one write's wait, not one per word.
void WriteColumnsAtOnce(const std::string& user, const std::vector<std::string>& columns,
                        const std::function<absl::Status(const std::string&)>& write) {
  std::vector<std::future<absl::Status>> writes;
  writes.reserve(columns.size());
  for (size_t i = 1; i < columns.size(); ++i) {
    writes.push_back(std::async(std::launch::async, write, std::cref(columns[i])));
  }
  std::vector<absl::Status> outcomes;
  if (!columns.empty()) outcomes.push_back(write(columns[0]));
  for (auto& w : writes) outcomes.push_back(w.get());
  for (const absl::Status& s : outcomes) {
    if (!s.ok()) {
      PC_LOG(kWarn, "drive.index_failed")("user", user)("error", s);
    }
  }
}

// The index columns of the name at `path`, "<word>\0<path>" for each of its words.
std::vector<std::string> NameColumns(const std::string& path) {
  std::vector<std::string> columns;
  for (const auto& word : FoldedWords(NameOf(path))) {
    std::string column = keys::NameColumn(word, path);
    // A path near the key limit stays unfound rather than failing its operation.
    if (column.size() <= kvs::kMaxKeyBytes) columns.push_back(std::move(column));
  }
  return columns;
}

}  // namespace

void WriteNameIndex(kvs::Client* kvs, const std::string& user, const std::string& path,
                    const pb::Entry& entry) {
  pb::NameHit hit;
  hit.set_folder(IsFolder(entry));
  hit.set_size(IsFolder(entry) ? 0 : entry.size());
  hit.set_modified_ms(entry.modified_ms());
  std::string raw;
  hit.SerializeToString(&raw);
  const std::string row = keys::NamesRow(user);
  WriteColumnsAtOnce(user, NameColumns(path),
                     [&](const std::string& column) { return kvs->Put(row, column, raw); });
}

void Drive::IndexPut(const std::string& user, const std::string& path, const pb::Entry& entry) {
  WriteNameIndex(kvs_, user, path, entry);
}

void Drive::IndexRemove(const std::string& user, const std::string& path) {
  const std::string row = keys::NamesRow(user);
  WriteColumnsAtOnce(user, NameColumns(path),
                     [&](const std::string& column) { return kvs_->Delete(row, column); });
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
  // Longest first: among ranges that look alike, the longest word's narrows the most.
  std::stable_sort(words.begin(), words.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  const std::string row = keys::NamesRow(std::string(user));
  Matches matches(words, std::clamp(limit, 1, kMaxSearchResults));

  // The first page of each probed word's range, read at once.
  const size_t probed = std::min(words.size(), kMaxProbedWords);
  std::vector<std::future<absl::StatusOr<kvs::ColumnPage>>> reads;
  auto read_first_page = [&](size_t i) {
    return kvs_->List(row, {.after = words[i], .limit = kPageSize, .with_values = true});
  };
  for (size_t i = 1; i < probed; ++i)
    reads.push_back(std::async(std::launch::async, read_first_page, i));
  std::vector<absl::StatusOr<kvs::ColumnPage>> first_pages;
  first_pages.push_back(read_first_page(0));
  for (auto& read : reads) first_pages.push_back(read.get());

  // Every match lies in every word's range, so the matches of each first page count, and a
  // range seen whole holds all of them.
  std::vector<PageScan> scans;
  for (size_t i = 0; i < probed; ++i) {
    if (!first_pages[i].ok()) return first_pages[i].status();
    scans.push_back(matches.Scan(*first_pages[i], words[i]));
    if (matches.full() || scans.back().whole) return matches.Take();
  }
  // The lead is the word whose first page held the most matches: its range is the densest
  // known, so reading on finds the rest soonest.
  size_t lead = 0;
  for (size_t i = 1; i < probed; ++i) {
    if (scans[i].matches > scans[lead].matches) lead = i;
  }
  int scanned = scans[lead].cells;
  std::string after = first_pages[lead]->cells.back().column;
  while (scanned < kMaxScannedCells) {
    auto page = kvs_->List(row, {.after = after,
                                 .limit = std::min(kMaxPageSize, kMaxScannedCells - scanned),
                                 .with_values = true});
    if (!page.ok()) return page.status();
    PageScan scan = matches.Scan(*page, words[lead]);
    scanned += scan.cells;
    if (matches.full() || scan.whole || page->cells.empty()) break;
    after = page->cells.back().column;
  }
  return matches.Take();
}

}  // namespace penncloud::drive
