// The name index and name search. Every file and folder has one cell per folded word of its
// name in the user's names row, "<word>\0<path>" -> NameHit, written by the operation that
// changes the tree (upload, new folder, move, delete, restore). A query reads cells whose
// word starts with one of its words, a range of one row, and checks each candidate's name for
// the other words; so its cost follows the number of matches, not the size of the tree.
// Every match lies in every query word's range: the first page of each word's range is read
// at once (the four longest words), and a range seen whole holds all the matches, so "report
// n4711" reads the few cells of "n4711", not the thousands of "report". Otherwise the ranges
// are walked together in path order, each skipping ahead to the path another stands on, so
// "budget tundra" reads where budgets and Tundra names meet, and finds every match however
// late it sorts.
#include <algorithm>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/name_words.h"
#include "drive/path.h"
#include "kvs/client/get_at_once.h"

namespace penncloud::drive {
namespace {

// A probe's first page of a word's range.
constexpr int kPageSize = 500;
// Reading on where a seek lands or through a range: the store's largest page, for the fewest
// round trips.
constexpr int kMaxPageSize = 1000;
constexpr int kMaxRecursion = static_cast<int>(kMaxDepth) + 2;
// Query words whose first pages are read (the longest ones).
constexpr size_t kMaxProbedWords = 4;
// A query word that starts more indexed words than this is not walked in path order (each
// step would seek in every one of them); its words are still checked in each match's name.
constexpr size_t kMaxWordsPerPrefix = 8;

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

// The indexed word of an index column "<word>\0<path>" (the whole column if it has no NUL).
std::string_view WordOf(std::string_view column) { return column.substr(0, column.find('\0')); }
// The path of an index column "<word>\0<path>" (empty if it has no NUL).
std::string_view PathOf(std::string_view column) {
  size_t nul = column.find('\0');
  return nul == std::string_view::npos ? std::string_view() : column.substr(nul + 1);
}

// A match as the index shows it, before the tree confirms it.
struct Candidate {
  NameMatch match;
  std::string column;  // of the index cell that led to it, to delete if it names nothing
};

// What one page showed of one word's range (its cells "<word...>\0<path>").
struct PageScan {
  int matches = 0;     // new matches among them
  bool whole = false;  // the range ends within the page
};

// A cell naming nothing may be one a change wrote before its tree change, which is under way;
// one older than this belongs to a change that never finished.
constexpr int64_t kUnfinishedChangeMs = 3'600'000;
// The path of the folder holding `path` ("" for the root).
std::string_view ParentOf(std::string_view path) { return path.substr(0, path.rfind('/')); }

// Checks a search's candidates against the tree. The index can name what is not there: a
// change writes a new name's cells before the tree changes and deletes an old name's after,
// so one cut short leaves cells behind. Such a cell is dropped, and deleted once older than
// any change takes (if it still holds what was read).
class TreeCheck {
 public:
  TreeCheck(kvs::Client& kvs, std::string user, int64_t now_ms)
      : kvs_(kvs), user_(std::move(user)), now_ms_(now_ms) {
    folder_ids_[""] = std::string(keys::kRootFolderId);
  }

  // The candidates the tree holds, as the tree has them (kind, size, modified).
  absl::StatusOr<std::vector<NameMatch>> Confirm(std::vector<Candidate> candidates) {
    // The folders on the candidates' paths not resolved by an earlier batch, a level at a
    // time from the root.
    std::vector<std::vector<std::string>> levels;  // folder paths by depth
    for (const Candidate& c : candidates) {
      std::string_view path = c.match.path;
      size_t depth = 0;
      for (size_t slash = path.find('/', 1); slash != std::string_view::npos;
           slash = path.find('/', slash + 1)) {
        if (levels.size() <= depth) levels.emplace_back();
        std::string folder(path.substr(0, slash));
        if (folder_ids_.emplace(folder, std::nullopt).second) levels[depth].push_back(folder);
        ++depth;
      }
    }
    for (const std::vector<std::string>& level : levels) {
      std::vector<MaybeEntry> folders =
          ReadEntries(std::vector<std::string_view>(level.begin(), level.end()));
      for (size_t i = 0; i < level.size(); ++i) {
        if (!folders[i].ok()) return folders[i].status();
        if (*folders[i] && IsFolder(**folders[i])) {
          folder_ids_[level[i]] = (*folders[i])->folder_id();
        }
      }
    }
    std::vector<std::string_view> paths;
    for (const Candidate& c : candidates) paths.push_back(c.match.path);
    std::vector<MaybeEntry> entries = ReadEntries(paths);
    std::vector<std::string_view> dropped;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (entries[i].ok() && !*entries[i]) dropped.push_back(candidates[i].column);
    }
    DeleteOldCells(dropped);
    std::vector<NameMatch> confirmed;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (!entries[i].ok()) return entries[i].status();
      if (!*entries[i]) continue;
      const pb::Entry& entry = **entries[i];
      NameMatch& match = candidates[i].match;
      match.folder = IsFolder(entry);
      match.size = match.folder ? 0 : entry.size();
      match.modified_ms = entry.modified_ms();
      confirmed.push_back(std::move(match));
    }
    return confirmed;
  }

 private:
  using MaybeEntry = absl::StatusOr<std::optional<pb::Entry>>;

  // Deletes the index cells of `columns` (which name nothing) that are older than any change
  // takes, if they still hold what was read. The search lists the index without values, so
  // only these few cells are read whole.
  void DeleteOldCells(const std::vector<std::string_view>& columns) {
    const std::string row = keys::NamesRow(user_);
    std::vector<kvs::CellAddress> cells;
    for (std::string_view column : columns) cells.push_back({row, std::string(column)});
    std::vector<absl::StatusOr<std::string>> values = kvs::GetAtOnce(kvs_, cells);
    for (size_t i = 0; i < cells.size(); ++i) {
      pb::NameHit hit;
      if (!values[i].ok() || !hit.ParseFromString(*values[i]) ||
          hit.indexed_ms() >= now_ms_ - kUnfinishedChangeMs) {
        continue;
      }
      if (auto s = kvs_.CDelete(row, cells[i].column, *values[i]); !s.ok()) {
        PC_LOG(kWarn, "drive.index_clean_failed")("user", user_)("error", s.status());
      }
    }
  }

  // The entries named `paths`, nullopt for one that is not there (its folder included), read
  // at once: a batch of matches waits about one round of reads, not one per match.
  std::vector<MaybeEntry> ReadEntries(const std::vector<std::string_view>& paths) {
    std::vector<MaybeEntry> entries(paths.size(), std::nullopt);
    std::vector<kvs::CellAddress> cells;
    std::vector<size_t> asked;  // index into paths of each cell
    for (size_t i = 0; i < paths.size(); ++i) {
      const std::optional<std::string>& parent_id = folder_ids_.find(ParentOf(paths[i]))->second;
      if (!parent_id) continue;
      cells.push_back({keys::TreeRow(user_, *parent_id), std::string(NameOf(paths[i]))});
      asked.push_back(i);
    }
    std::vector<absl::StatusOr<std::string>> raw = kvs::GetAtOnce(kvs_, cells);
    for (size_t c = 0; c < cells.size(); ++c) {
      MaybeEntry& entry = entries[asked[c]];
      if (absl::IsNotFound(raw[c].status())) continue;
      if (!raw[c].ok()) {
        entry = raw[c].status();
        continue;
      }
      if (auto parsed = ParseEntry(*raw[c]); parsed.ok()) entry = *std::move(parsed);
    }
    return entries;
  }

  kvs::Client& kvs_;
  const std::string user_;
  const int64_t now_ms_;
  // The id of every folder on the paths checked so far (nullopt: not a folder there), kept
  // for the whole search, so a folder shared by many matches is read once.
  std::map<std::string, std::optional<std::string>, std::less<>> folder_ids_;
};

// Batches of candidates a search checks against the tree before its last: when the check
// drops cells naming nothing (left by a crash), the search reads on for as many more
// candidates, this many times at most, so many such cells cost a bounded number of reads.
constexpr int kMaxChecksBeforeTheLast = 4;

// The matches of one query, gathered from pages of any of its words' ranges: a name that
// holds every query word lies in every word's range. The index column (word and path) is
// all a candidate needs, so the ranges are listed without their values. Once the results are
// full they are checked against the tree, and the places of those it drops are open again.
class Matches {
 public:
  Matches(const std::vector<std::string>& words, int limit, TreeCheck& check)
      : words_(words), limit_(limit), check_(check) {}

  // The results are full, or a check failed (Finish reports it): gather no more.
  bool full() const {
    return static_cast<int>(confirmed_.size() + unchecked_.size()) >= limit_ || !failed_.ok();
  }

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
      if (Offer(cell)) ++scan.matches;
    }
    scan.whole = !page.more;
    return scan;
  }

  // Keeps the file or folder of the index cell `cell` if its name holds every query word and
  // it is not kept already. Returns whether it was kept.
  bool Offer(const kvs::Cell& cell) {
    std::string_view path = PathOf(cell.column);
    std::string name = NameOf(path);
    if (words_.size() > 1 && !AllWordsMatch(words_, FoldedWords(name))) return false;
    if (paths_.contains(path)) return false;  // another word of the name led here
    paths_.emplace(path);
    // Kind, size and time come from the tree (TreeCheck), which may be newer.
    unchecked_.push_back(Candidate{.match = {.path = std::string(path), .name = std::move(name)},
                                   .column = cell.column});
    if (full() && checks_ < kMaxChecksBeforeTheLast) CheckUnchecked();
    return true;
  }

  // The matches the tree holds, sorted by name.
  absl::StatusOr<std::vector<NameMatch>> Finish() {
    CheckUnchecked();
    if (!failed_.ok()) return failed_;
    std::sort(confirmed_.begin(), confirmed_.end(), [](const NameMatch& a, const NameMatch& b) {
      return a.name != b.name ? a.name < b.name : a.path < b.path;
    });
    return std::move(confirmed_);
  }

 private:
  void CheckUnchecked() {
    if (unchecked_.empty() || !failed_.ok()) return;
    ++checks_;
    auto confirmed = check_.Confirm(std::exchange(unchecked_, {}));
    if (!confirmed.ok()) {
      failed_ = confirmed.status();
      return;
    }
    confirmed_.insert(confirmed_.end(), std::make_move_iterator(confirmed->begin()),
                      std::make_move_iterator(confirmed->end()));
  }

  const std::vector<std::string>& words_;
  const int limit_;
  TreeCheck& check_;
  std::vector<NameMatch> confirmed_;
  std::vector<Candidate> unchecked_;
  int checks_ = 0;
  absl::Status failed_;
  std::set<std::string, std::less<>> paths_;  // of every candidate offered, checked or not
};

// The cells of one indexed word, "<word>\0<path>" in path order, held a page at a time. A seek
// past the page held reads the page that starts at its target, so walking two words' cells
// together reads where their names meet, not every name in between.
class WordRun {
 public:
  // `cells`: the run's first cells; `more`: whether more may follow them.
  WordRun(std::string word, std::vector<kvs::Cell> cells, bool more)
      : word_(std::move(word)), cells_(std::move(cells)), more_(more) {}

  // Moves to the first cell whose path is not less than `target`.
  absl::Status Seek(kvs::Client& kvs, const std::string& row, std::string_view target) {
    for (;;) {
      while (next_ < cells_.size() && path() < target) ++next_;
      if (next_ < cells_.size() || !more_) return absl::OkStatus();
      // The store lists the columns after a given one. Cutting the target's column by its last
      // byte starts the page at the target, letting in a few smaller paths that the loop skips.
      std::string after = keys::NameColumn(word_, target);
      after.pop_back();
      if (!cells_.empty()) after = std::max(after, cells_.back().column);
      auto page = kvs.List(row, {.after = after, .limit = kMaxPageSize});
      if (!page.ok()) return page.status();
      cells_.clear();
      next_ = 0;
      more_ = page->more;
      for (kvs::Cell& cell : page->cells) {
        if (!InRun(cell.column)) {
          more_ = false;
          break;
        }
        cells_.push_back(std::move(cell));
      }
    }
  }

  bool done() const { return next_ == cells_.size(); }
  // Of the cell moved to; only when !done().
  std::string_view path() const {
    return std::string_view(cells_[next_].column).substr(word_.size() + 1);
  }
  const kvs::Cell& cell() const { return cells_[next_]; }

 private:
  bool InRun(std::string_view column) const {
    return column.size() > word_.size() && column.starts_with(word_) &&
           column[word_.size()] == '\0';
  }

  std::string word_;
  std::vector<kvs::Cell> cells_;
  size_t next_ = 0;
  bool more_;
};

// Every path in one query word's range, in path order: the union of the runs of the indexed
// words it starts ("rep": report, repair).
class RangeCursor {
 public:
  explicit RangeCursor(std::vector<WordRun> runs) : runs_(std::move(runs)) {}

  absl::Status Seek(kvs::Client& kvs, const std::string& row, std::string_view target) {
    lowest_ = nullptr;
    for (WordRun& run : runs_) {
      if (auto s = run.Seek(kvs, row, target); !s.ok()) return s;
      if (!run.done() && (lowest_ == nullptr || run.path() < lowest_->path())) lowest_ = &run;
    }
    return absl::OkStatus();
  }

  bool done() const { return lowest_ == nullptr; }
  std::string_view path() const { return lowest_->path(); }
  const kvs::Cell& cell() const { return lowest_->cell(); }

 private:
  std::vector<WordRun> runs_;
  const WordRun* lowest_ = nullptr;
};

// The cursor over the range of `prefix`, whose first page is `first`: one run per indexed
// word the range holds, the words past that page found by one read each (after a word's last
// path: paths are UTF-8, which never holds the byte 0xff). nullopt if the prefix starts more
// than kMaxWordsPerPrefix words.
absl::StatusOr<std::optional<RangeCursor>> CursorOver(kvs::Client& kvs, const std::string& row,
                                                      const std::string& prefix,
                                                      kvs::ColumnPage page) {
  std::vector<WordRun> runs;
  for (;;) {
    bool range_ends = !page.more;
    std::string word;
    std::vector<kvs::Cell> cells;
    for (kvs::Cell& cell : page.cells) {
      std::string_view cell_word = WordOf(cell.column);
      if (cell_word.size() == cell.column.size() || !cell_word.starts_with(prefix)) {
        range_ends = true;
        break;
      }
      if (cell_word != word) {
        if (!cells.empty()) runs.emplace_back(word, std::move(cells), false);
        word = cell_word;
        cells.clear();
      }
      cells.push_back(std::move(cell));
    }
    // The page's last word may go on past it.
    if (!cells.empty()) runs.emplace_back(word, std::move(cells), !range_ends);
    if (runs.size() > kMaxWordsPerPrefix) return std::nullopt;
    if (range_ends || word.empty()) return RangeCursor(std::move(runs));
    auto next = kvs.List(row, {.after = keys::NameColumn(word, "\xff"), .limit = kPageSize});
    if (!next.ok()) return next.status();
    page = *std::move(next);
  }
}

// Walks the cursors together in path order (a leapfrog join): each seeks to the largest path
// another stands on, and a path all of them stand on is in every range, so a candidate.
absl::Status WalkTogether(kvs::Client& kvs, const std::string& row,
                          std::vector<RangeCursor>& cursors, Matches& matches) {
  std::string target;
  while (!matches.full()) {
    bool met = true;
    for (RangeCursor& cursor : cursors) {
      if (auto s = cursor.Seek(kvs, row, target); !s.ok()) return s;
      if (cursor.done()) return absl::OkStatus();
      if (cursor.path() != target) {
        target = cursor.path();
        met = false;
      }
    }
    if (met) {
      matches.Offer(cursors.front().cell());
      target.push_back('\0');  // the least path after it
    }
  }
  return absl::OkStatus();
}

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
                    const pb::Entry& entry, int64_t now_ms) {
  pb::NameHit hit;
  hit.set_folder(IsFolder(entry));
  hit.set_size(IsFolder(entry) ? 0 : entry.size());
  hit.set_modified_ms(entry.modified_ms());
  hit.set_indexed_ms(now_ms);
  hit.set_item_id(ItemId(entry));
  std::string raw;
  hit.SerializeToString(&raw);
  const std::string row = keys::NamesRow(user);
  WriteColumnsAtOnce(user, NameColumns(path),
                     [&](const std::string& column) { return kvs->Put(row, column, raw); });
}

void Drive::IndexPut(const std::string& user, const std::string& path, const pb::Entry& entry) {
  WriteNameIndex(kvs_, user, path, entry, Now());
}

void Drive::IndexRemove(const std::string& user, const std::vector<IndexedName>& names) {
  const std::string row = keys::NamesRow(user);
  for (const IndexedName& name : names) {
    WriteColumnsAtOnce(user, NameColumns(name.path), [&](const std::string& column) {
      auto raw = kvs_->Get(row, column);
      if (absl::IsNotFound(raw.status())) return absl::OkStatus();
      if (!raw.ok()) return raw.status();
      // An upload took the path after the item left. (A cell written before NameHit.item_id
      // names no item, and goes.)
      pb::NameHit hit;
      if (hit.ParseFromString(*raw) && !hit.item_id().empty() && hit.item_id() != name.item_id) {
        return absl::OkStatus();
      }
      // Compare-and-delete: an upload that rewrites the cell between the read and here keeps it.
      return kvs_->CDelete(row, column, *raw).status();
    });
  }
}

void Drive::IndexTree(const std::string& user, const std::string& path, const pb::Entry& entry,
                      bool add) {
  if (!add) {
    IndexRemove(user, TreeNames(user, path, entry));
    return;
  }
  WalkTree(user, path, entry, 0,
           [&](const std::string& at, const pb::Entry& at_entry) { IndexPut(user, at, at_entry); });
}

std::vector<Drive::IndexedName> Drive::TreeNames(const std::string& user, const std::string& path,
                                                 const pb::Entry& entry) {
  std::vector<IndexedName> names;
  WalkTree(user, path, entry, 0, [&](const std::string& at, const pb::Entry& at_entry) {
    names.push_back({.path = at, .item_id = ItemId(at_entry)});
  });
  return names;
}

void Drive::WalkTree(const std::string& user, const std::string& path, const pb::Entry& entry,
                     int depth,
                     const std::function<void(const std::string&, const pb::Entry&)>& visit) {
  visit(path, entry);
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
      if (child.ok())
        WalkTree(user, absl::StrCat(path, "/", cell.column), *child, depth + 1, visit);
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
  TreeCheck check(*kvs_, std::string(user), Now());
  Matches matches(words, std::clamp(limit, 1, kMaxSearchResults), check);

  // The first page of each probed word's range, read at once.
  const size_t probed = std::min(words.size(), kMaxProbedWords);
  std::vector<std::future<absl::StatusOr<kvs::ColumnPage>>> reads;
  auto read_first_page = [&](size_t i) {
    return kvs_->List(row, {.after = words[i], .limit = kPageSize});
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
    if (matches.full() || scans.back().whole) return matches.Finish();
  }
  // If every probed word starts many words ("a b"), the range whose first page held the most
  // matches, the densest known, is read on instead.
  size_t lead = 0;
  for (size_t i = 1; i < probed; ++i) {
    if (scans[i].matches > scans[lead].matches) lead = i;
  }
  std::string after = first_pages[lead]->cells.back().column;
  // Every range goes on past its first page: the ranges are walked together in path order.
  std::vector<std::future<absl::StatusOr<std::optional<RangeCursor>>>> openings;
  for (size_t i = 0; i < probed; ++i) {
    openings.push_back(std::async(std::launch::async, [&, i] {
      return CursorOver(*kvs_, row, words[i], *std::move(first_pages[i]));
    }));
  }
  std::vector<RangeCursor> cursors;
  absl::Status opened;
  for (auto& opening : openings) {
    auto cursor = opening.get();
    if (!cursor.ok()) {
      opened.Update(cursor.status());
    } else if (cursor->has_value()) {
      cursors.push_back(**std::move(cursor));
    }
  }
  if (!opened.ok()) return opened;
  if (!cursors.empty()) {
    if (auto s = WalkTogether(*kvs_, row, cursors, matches); !s.ok()) return s;
    return matches.Finish();
  }
  // Each probed word starts many words ("a b"): the lead's range is read to its end or until
  // the results are full.
  for (;;) {
    auto page = kvs_->List(row, {.after = after, .limit = kMaxPageSize});
    if (!page.ok()) return page.status();
    PageScan scan = matches.Scan(*page, words[lead]);
    if (matches.full() || scan.whole || page->cells.empty()) break;
    after = page->cells.back().column;
  }
  return matches.Finish();
}

}  // namespace penncloud::drive
