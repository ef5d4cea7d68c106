#include "mail/search_snapshot.h"

#include <algorithm>

#include "mail/mail_store.h"
#include "mail/search_index.h"
#include "mail/search_segments.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

constexpr int kListPage = 1000;
constexpr size_t kIdLength = 32;

}  // namespace

IndexSnapshot::IndexSnapshot(kvs::Client& kvs, std::string_view user) : kvs_(&kvs), user_(user) {}

absl::StatusOr<IndexSnapshot> IndexSnapshot::Load(kvs::Client& kvs, std::string_view user,
                                                  int max_pending) {
  IndexSnapshot snapshot(kvs, user);
  auto read = ReadManifest(kvs, user);
  if (!read.ok()) return read.status();
  snapshot.manifest_ = std::move(read->manifest);
  const std::string row = SearchRow(user);
  const std::string& frontier = snapshot.manifest_.frontier();
  const std::string end = frontier.empty() ? "" : DocColumn(frontier);
  // The late markers sort just before the docs, so one listing reads both.
  std::vector<std::string> late;
  kvs::ListOptions options;
  options.after = std::string(kLatePrefix);
  options.with_values = true;
  while (true) {
    options.limit = kListPage;
    auto page = kvs.List(row, options);
    if (!page.ok()) return page.status();
    bool done = !page->more || page->cells.empty();
    for (kvs::Cell& cell : page->cells) {
      std::string_view column = cell.column;
      if (column.starts_with(kLatePrefix)) {
        late.emplace_back(column.substr(kLatePrefix.size()));
        continue;
      }
      if (!column.starts_with(kDocPrefix) || (!end.empty() && column >= end)) {
        done = true;
        break;
      }
      if (max_pending >= 0 && snapshot.pending_.size() >= static_cast<size_t>(max_pending)) {
        snapshot.partial_ = true;
        return snapshot;
      }
      pb::SearchDoc doc;
      if (!doc.ParseFromString(cell.value)) return absl::DataLossError("bad search index cell");
      snapshot.pending_.emplace_back(column.substr(kDocPrefix.size()), std::move(doc));
    }
    if (done) break;
    options.after = page->cells.back().column;
  }
  for (const std::string& id : late) {
    auto value = kvs.Get(row, DocColumn(id));
    if (absl::IsNotFound(value.status())) continue;  // removed since
    if (!value.ok()) return value.status();
    pb::SearchDoc doc;
    if (!doc.ParseFromString(*value)) return absl::DataLossError("bad search index cell");
    snapshot.pending_.emplace_back(id, std::move(doc));
  }
  return snapshot;
}

absl::StatusOr<std::vector<std::string>> IndexSnapshot::FolderPostings(std::string_view folder,
                                                                       std::string_view after,
                                                                       int limit) {
  const std::string prefix = FolderPrefix(folder);
  kvs::ListOptions options;
  options.after = after.empty() ? prefix : MessageColumn(folder, after);
  options.limit = limit;
  auto page = kvs_->List(MailboxRow(user_), options);
  if (!page.ok()) return page.status();
  std::vector<std::string> ids;
  for (const kvs::Cell& cell : page->cells) {
    std::string_view column = cell.column;
    if (!column.starts_with(prefix)) break;  // past this folder
    if (column.size() == prefix.size() + kIdLength) ids.emplace_back(column.substr(prefix.size()));
  }
  return ids;
}

absl::Status IndexSnapshot::Locate(const std::vector<std::string>& keys) {
  std::vector<std::string> in_segments;  // the keys to look for in the segments
  for (const std::string& key : keys) {
    if (IsFolderKey(key) || located_.contains(key)) continue;
    KeyLists& lists = located_[key];
    for (const auto& [id, doc] : pending_) {
      if (std::binary_search(doc.keys().begin(), doc.keys().end(), key)) {
        lists.pending.push_back(id);
      }
    }
    std::sort(lists.pending.begin(), lists.pending.end());
    // The merged messages' unread postings are the cells (a merge writes them for the docs
    // it folds); segments of older merges may hold "~unread" too, stale: not read.
    if (key != kUnreadKey) in_segments.push_back(key);
  }
  if (in_segments.empty()) return absl::OkStatus();
  std::vector<const pb::SearchSegment*> segments;
  for (const pb::SearchSegment& segment : manifest_.segments()) segments.push_back(&segment);
  auto found = LocatePackedPostings(*kvs_, SearchRow(user_), segments, in_segments);
  if (!found.ok()) {
    // Not found is not the same as absent: a later Postings must not take them for empty.
    for (const std::string& key : in_segments) located_.erase(key);
    return found.status();
  }
  for (size_t k = 0; k < in_segments.size(); ++k) {
    KeyLists& lists = located_[in_segments[k]];
    for (PackedPostings& packed : (*found)[k]) {
      if (packed.size() > 0) lists.segments.push_back(std::move(packed));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<const IndexSnapshot::KeyLists*> IndexSnapshot::Located(std::string_view key) {
  if (auto it = located_.find(key); it == located_.end()) {
    if (auto s = Locate({std::string(key)}); !s.ok()) return s;
  }
  return &located_.find(key)->second;
}

absl::StatusOr<std::vector<std::string>> IndexSnapshot::UnreadCells(std::string_view after,
                                                                    int limit) {
  kvs::ListOptions options;
  options.after = after.empty() ? std::string(kUnreadPrefix) : UnreadColumn(after);
  options.limit = limit;
  options.with_values = false;
  auto page = kvs_->List(SearchRow(user_), options);
  if (!page.ok()) return page.status();
  std::vector<std::string> ids;
  for (const kvs::Cell& cell : page->cells) {
    std::string_view column = cell.column;
    if (!column.starts_with(kUnreadPrefix)) break;
    ids.emplace_back(column.substr(kUnreadPrefix.size()));
    unread_cells_.insert(ids.back());
  }
  return ids;
}

bool IndexSnapshot::HasUnreadCell(std::string_view id) const {
  return unread_cells_.find(id) != unread_cells_.end();
}

absl::StatusOr<std::vector<std::string>> IndexSnapshot::Postings(std::string_view key,
                                                                 std::string_view after,
                                                                 int limit) {
  if (IsFolderKey(key)) return FolderPostings(FolderOfKey(key), after, limit);
  auto located = Located(key);
  if (!located.ok()) return located.status();
  const KeyLists& lists = **located;
  // Every source from its first id after `after`; the page is the `limit` smallest ids
  // among them, each once (a doc folded twice, after a crash, is in two segments).
  std::vector<std::string> cells;
  if (key == kUnreadKey) {
    auto listed = UnreadCells(after, limit);
    if (!listed.ok()) return listed.status();
    cells = std::move(*listed);
  }
  struct Source {
    const PackedPostings* packed = nullptr;
    const std::vector<std::string>* ids = nullptr;
    size_t at = 0;
    bool done() const { return at == (packed ? packed->size() : ids->size()); }
    std::string head() const { return packed ? packed->IdAt(at) : (*ids)[at]; }
  };
  auto upper = [&](const std::vector<std::string>& ids) {
    return static_cast<size_t>(
        std::upper_bound(ids.begin(), ids.end(), after,
                         [](std::string_view a, const std::string& b) { return a < b; }) -
        ids.begin());
  };
  std::vector<Source> sources;
  sources.push_back({.ids = &lists.pending, .at = upper(lists.pending)});
  sources.push_back({.ids = &cells, .at = 0});
  for (const PackedPostings& packed : lists.segments) {
    sources.push_back({.packed = &packed, .at = packed.UpperBound(after)});
  }
  std::vector<std::string> heads;
  for (const Source& source : sources) heads.push_back(source.done() ? "" : source.head());
  std::vector<std::string> page;
  while (static_cast<int>(page.size()) < limit) {
    const std::string* least = nullptr;
    for (size_t i = 0; i < sources.size(); ++i) {
      if (!sources[i].done() && (least == nullptr || heads[i] < *least)) least = &heads[i];
    }
    if (least == nullptr) break;
    page.push_back(*least);
    for (size_t i = 0; i < sources.size(); ++i) {
      if (sources[i].done() || heads[i] != page.back()) continue;
      ++sources[i].at;
      heads[i] = sources[i].done() ? "" : sources[i].head();
    }
  }
  return page;
}

}  // namespace penncloud::mail
