// The name index and name search. Every file and folder has one cell per folded word of its
// name in the user's names row, "<word>\0<path>" -> NameHit, written by the operation that
// changes the tree (upload, new folder, move, delete, restore). A query reads the cells
// whose word starts with the query's longest word, a short range of one row, so its cost
// follows the number of matches, not the size of the tree.
#include <algorithm>
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
  // The longest word narrows the range the most.
  std::stable_sort(words.begin(), words.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  const std::string& lead = words.front();

  std::string u(user);
  std::vector<NameMatch> out;
  std::set<std::string> seen;
  kvs::ListOptions opts{.after = lead, .limit = kPageSize, .with_values = true};
  int scanned = 0;
  bool past_lead = false;
  while (!past_lead && scanned < kMaxScannedCells && static_cast<int>(out.size()) < limit) {
    auto page = kvs_->List(keys::NamesRow(u), opts);
    if (!page.ok()) return page.status();
    for (const auto& cell : page->cells) {
      ++scanned;
      size_t nul = cell.column.find('\0');
      if (nul == std::string::npos) continue;
      if (!std::string_view(cell.column).substr(0, nul).starts_with(lead)) {
        past_lead = true;
        break;
      }
      std::string path = cell.column.substr(nul + 1);
      if (!seen.insert(path).second) continue;
      std::string name = NameOf(path);
      if (!AllWordsMatch(words, FoldedWords(name))) continue;
      pb::NameHit hit;
      if (!hit.ParseFromString(cell.value)) continue;
      out.push_back(NameMatch{.path = path,
                              .name = name,
                              .folder = hit.folder(),
                              .size = hit.size(),
                              .modified_ms = hit.modified_ms()});
      if (static_cast<int>(out.size()) >= limit) break;
    }
    if (!page->more || page->cells.empty()) break;
    opts.after = page->cells.back().column;
  }
  std::sort(out.begin(), out.end(), [](const NameMatch& a, const NameMatch& b) {
    return a.name != b.name ? a.name < b.name : a.path < b.path;
  });
  return out;
}

}  // namespace penncloud::drive
