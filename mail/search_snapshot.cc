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

absl::StatusOr<const std::vector<std::string>*> IndexSnapshot::Gathered(std::string_view key) {
  if (auto it = gathered_.find(key); it != gathered_.end()) return &it->second;
  const std::string row = SearchRow(user_);
  std::vector<std::string> ids;
  for (const auto& [id, doc] : pending_) {
    if (std::binary_search(doc.keys().begin(), doc.keys().end(), key)) ids.push_back(id);
  }
  if (key == kUnreadKey) {
    // The merged messages' unread postings are the cells (a merge writes them for the
    // docs it folds); segments of older merges may hold "~unread" too, stale: not read.
    auto cells = IdsUnder(*kvs_, user_, kUnreadPrefix);
    if (!cells.ok()) return cells.status();
    unread_cells_ = std::move(*cells);
    ids.insert(ids.end(), unread_cells_.begin(), unread_cells_.end());
  } else {
    for (const pb::SearchSegment& segment : manifest_.segments()) {
      auto more = SegmentPostings(*kvs_, row, segment, key);
      if (!more.ok()) return more.status();
      ids.insert(ids.end(), std::make_move_iterator(more->begin()),
                 std::make_move_iterator(more->end()));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return &(gathered_[std::string(key)] = std::move(ids));
}

bool IndexSnapshot::HasUnreadCell(std::string_view id) const {
  return std::binary_search(unread_cells_.begin(), unread_cells_.end(), id);
}

absl::StatusOr<std::vector<std::string>> IndexSnapshot::Postings(std::string_view key,
                                                                 std::string_view after,
                                                                 int limit) {
  if (IsFolderKey(key)) return FolderPostings(FolderOfKey(key), after, limit);
  auto all = Gathered(key);
  if (!all.ok()) return all.status();
  const std::vector<std::string>& ids = **all;
  auto from = std::upper_bound(ids.begin(), ids.end(), after,
                               [](std::string_view a, const std::string& b) { return a < b; });
  auto to = ids.end() - from > limit ? from + limit : ids.end();
  return std::vector<std::string>(from, to);
}

}  // namespace penncloud::mail
