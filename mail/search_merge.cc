#include "mail/search_merge.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "mail/delivery_pool.h"
#include "mail/mail_store.h"
#include "mail/search_concurrency.h"
#include "mail/search_index.h"
#include "mail/search_segments.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

// A claim older than this is a crashed merge's, and the next merge claims again.
constexpr int64_t kClaimTimeout = 30'000'000;
// Docs per new segment, which bounds a merge's memory.
constexpr size_t kSegmentMessages = 1024;
// Segment sizes: level 0 holds fewer than kLevelBase messages, each level kFanout times
// more; kFanout segments of one level merge into one of the next.
constexpr int64_t kLevelBase = 256;
constexpr int kFanout = 4;
constexpr int kListPage = 1000;
constexpr int kMaxCompactions = 8;    // per call; the next merge goes on
constexpr size_t kEntryReaders = 16;  // mailbox entries read at once for the unread cells

int Level(int64_t messages) {
  int level = 0;
  for (int64_t bound = kLevelBase; messages >= bound && level < 30; bound *= kFanout) ++level;
  return level;
}

std::optional<std::string_view> Expected(const ManifestRead& read) {
  if (!read.raw) return std::nullopt;
  return std::string_view(*read.raw);
}

// Calls `each(column, value)` for the columns of `row` after `after`, in order, while it
// returns true.
absl::Status Scan(kvs::Client& kvs, const std::string& row, std::string after, bool values,
                  const std::function<bool(const kvs::Cell&)>& each) {
  while (true) {
    kvs::ListOptions options;
    options.after = after;
    options.limit = kListPage;
    options.with_values = values;
    auto page = kvs.List(row, options);
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      if (!each(cell)) return absl::OkStatus();
    }
    if (!page->more || page->cells.empty()) return absl::OkStatus();
    after = page->cells.back().column;
  }
}

// A doc delivered unread, folded by this merge: its "~unread" key stays out of the
// segment, and the merge writes its unread cell instead if it is still unread.
struct UnreadDoc {
  std::string id;
  std::string folder;  // the doc's folder hint
};

// What FoldClaimed read besides the segments it wrote.
struct Folded {
  std::vector<std::string> late;  // the late markers
  std::vector<UnreadDoc> unread;
};

void Fold(const std::string& id, const pb::SearchDoc& doc, PostingMap* postings,
          std::vector<UnreadDoc>* unread) {
  for (const std::string& key : doc.keys()) {
    if (key == kUnreadKey) {
      unread->push_back({id, doc.folder()});
    } else {
      (*postings)[key].push_back(id);
    }
  }
}

// Writes the unread cell of each doc whose mailbox entry is unread, or not where the doc
// says (moved, or its delivery still writing): a spare cell costs a query one check, a
// missing one would lose a hit. A change to read racing this may leave a spare cell too.
absl::Status RecordUnread(kvs::Client& kvs, std::string_view user,
                          const std::vector<UnreadDoc>& docs) {
  const std::string mailbox = MailboxRow(user);
  const std::string row = SearchRow(user);
  return ForEachConcurrently(docs.size(), kEntryReaders, [&](size_t i) -> absl::Status {
    auto value = kvs.Get(mailbox, MessageColumn(docs[i].folder, docs[i].id));
    if (!value.ok() && !absl::IsNotFound(value.status())) return value.status();
    pb::MessageMeta meta;
    if (value.ok() && meta.ParseFromString(*value) && meta.seen()) return absl::OkStatus();
    return kvs.Put(row, UnreadColumn(docs[i].id), "");
  });
}

void SortLists(PostingMap* postings) {
  for (auto& [key, ids] : *postings) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
}

// The docs claimed in [floor, frontier), plus those named by late markers, folded into
// segments of at most kSegmentMessages. `folded` gets the markers and the unread docs.
absl::StatusOr<std::vector<pb::SearchSegment>> FoldClaimed(kvs::Client& kvs, const std::string& row,
                                                           const std::string& floor,
                                                           const std::string& frontier,
                                                           int64_t now_micros,
                                                           Folded* folded_docs) {
  std::vector<std::string>* late = &folded_docs->late;
  absl::Status status;
  auto fail = [&](absl::Status s) {
    status = std::move(s);
    return false;
  };
  auto scanned = Scan(kvs, row, std::string(kLatePrefix), false, [&](const kvs::Cell& cell) {
    if (!std::string_view(cell.column).starts_with(kLatePrefix)) return false;
    late->push_back(cell.column.substr(kLatePrefix.size()));
    return true;
  });
  if (!scanned.ok()) return scanned;

  std::vector<pb::SearchSegment> written;
  PostingMap postings;
  std::set<std::string> folded;
  auto flush = [&]() -> absl::Status {
    if (folded.empty()) return absl::OkStatus();
    SortLists(&postings);
    auto segment = WriteSegment(kvs, row, NewSegmentName(now_micros), postings,
                                static_cast<int64_t>(folded.size()));
    if (!segment.ok()) return segment.status();
    written.push_back(std::move(*segment));
    postings.clear();
    folded.clear();
    return absl::OkStatus();
  };
  for (const std::string& id : *late) {
    auto value = kvs.Get(row, DocColumn(id));
    if (absl::IsNotFound(value.status())) continue;  // removed since
    if (!value.ok()) return value.status();
    pb::SearchDoc doc;
    if (!doc.ParseFromString(*value)) return absl::DataLossError("bad search index cell");
    if (folded.insert(id).second) Fold(id, doc, &postings, &folded_docs->unread);
  }
  // From just below the floor, so a doc whose id equals it is included.
  const std::string from = DocColumn(floor).substr(0, DocColumn(floor).size() - 1);
  const std::string end = frontier.empty() ? "" : DocColumn(frontier);
  scanned = Scan(kvs, row, from, true, [&](const kvs::Cell& cell) {
    std::string_view column = cell.column;
    if (!column.starts_with(kDocPrefix) || (!end.empty() && column >= end)) return false;
    std::string id(column.substr(kDocPrefix.size()));
    pb::SearchDoc doc;
    if (!doc.ParseFromString(cell.value)) return fail(absl::DataLossError("bad search index cell"));
    if (folded.insert(id).second) Fold(id, doc, &postings, &folded_docs->unread);
    if (folded.size() >= kSegmentMessages) {
      if (auto s = flush(); !s.ok()) return fail(std::move(s));
    }
    return true;
  });
  if (!scanned.ok()) status = scanned;
  if (status.ok()) status = flush();
  if (!status.ok()) {
    for (const auto& segment : written) (void)DeleteSegment(kvs, row, segment);
    return status;
  }
  return written;
}

// The ids of docs between the first and last of `ids` (ascending), inclusive.
absl::StatusOr<std::unordered_set<std::string>> LiveIds(kvs::Client& kvs, const std::string& row,
                                                        const std::string& first,
                                                        const std::string& last) {
  std::unordered_set<std::string> live;
  const std::string from = DocColumn(first).substr(0, DocColumn(first).size() - 1);
  const std::string end = DocColumn(last);
  auto scanned = Scan(kvs, row, from, false, [&](const kvs::Cell& cell) {
    if (cell.column > end || !std::string_view(cell.column).starts_with(kDocPrefix)) return false;
    live.insert(cell.column.substr(kDocPrefix.size()));
    return true;
  });
  if (!scanned.ok()) return scanned;
  return live;
}

// Merges kFanout segments of the lowest level that has as many into one, dropping the
// postings of removed messages. Returns false when no level is full.
absl::StatusOr<bool> CompactOnce(kvs::Client& kvs, std::string_view user, int64_t now_micros,
                                 int64_t max_messages) {
  const std::string row = SearchRow(user);
  auto read = ReadManifest(kvs, user);
  if (!read.ok()) return read.status();
  std::vector<int> picked;
  for (int level = 0; level < 31 && picked.empty(); ++level) {
    std::vector<int> at;
    for (int i = 0; i < read->manifest.segments_size(); ++i) {
      const int64_t messages = read->manifest.segments(i).messages();
      if (Level(messages) == level && messages < max_messages) at.push_back(i);
    }
    if (static_cast<int>(at.size()) >= kFanout) picked.assign(at.begin(), at.begin() + kFanout);
  }
  if (picked.empty()) return false;

  // Every doc holds "~all", so those lists name every message of the segments.
  std::string first, last;
  for (int i : picked) {
    auto all = SegmentPostings(kvs, row, read->manifest.segments(i), kAllKey);
    if (!all.ok()) return all.status();
    if (all->empty()) continue;
    if (first.empty() || all->front() < first) first = all->front();
    if (last.empty() || all->back() > last) last = all->back();
  }
  std::unordered_set<std::string> live;
  if (!first.empty()) {
    auto ids = LiveIds(kvs, row, first, last);
    if (!ids.ok()) return ids.status();
    live = std::move(*ids);
  }
  PostingMap postings;
  for (int i : picked) {
    auto s = ReadSegment(
        kvs, row, read->manifest.segments(i),
        [&](const std::string& id) { return live.contains(id); }, &postings);
    if (!s.ok()) return s;
  }
  SortLists(&postings);
  // Segments written before the unread cells held "~unread"; it is read from the cells now.
  postings.erase(std::string(kUnreadKey));
  std::erase_if(postings, [](const auto& entry) { return entry.second.empty(); });
  auto all = postings.find(kAllKey);
  const int64_t messages = all == postings.end() ? 0 : static_cast<int64_t>(all->second.size());
  auto merged = WriteSegment(kvs, row, NewSegmentName(now_micros), postings, messages);
  if (!merged.ok()) return merged.status();

  pb::SearchManifest next;
  next.set_frontier(read->manifest.frontier());
  next.set_intent(read->manifest.intent());
  for (int i = 0; i < read->manifest.segments_size(); ++i) {
    if (std::find(picked.begin(), picked.end(), i) == picked.end()) {
      *next.add_segments() = read->manifest.segments(i);
    }
  }
  if (merged->first_keys_size() > 0) *next.add_segments() = *merged;
  auto committed = kvs.CPut(row, kManifestColumn, Expected(*read), next.SerializeAsString());
  if (!committed.ok() || !*committed) {
    (void)DeleteSegment(kvs, row, *merged);
    return committed.ok() ? absl::StatusOr<bool>(false) : committed.status();
  }
  if (merged->first_keys_size() == 0) (void)DeleteSegment(kvs, row, *merged);
  for (int i : picked) {
    if (auto s = DeleteSegment(kvs, row, read->manifest.segments(i)); !s.ok()) return s;
  }
  return true;
}

}  // namespace

absl::Status MergeIndex(kvs::Client& kvs, std::string_view user, int64_t now_micros,
                        const MergeOptions& options) {
  const std::string row = SearchRow(user);
  auto read = ReadManifest(kvs, user);
  if (!read.ok()) return read.status();
  auto fresh_claim = [&] {
    const std::string& intent = read->manifest.intent();
    return !intent.empty() && IdMicros(intent) + kMergeLag + kClaimTimeout > now_micros;
  };
  if (fresh_claim() && options.wait_for_claim.count() > 0) {
    // Until the other merge commits (or gives up); a store that cannot watch is not waited on.
    (void)kvs.Watch(row, {{std::string(kManifestColumn), read->raw}}, options.wait_for_claim,
                    nullptr);
    read = ReadManifest(kvs, user);
    if (!read.ok()) return read.status();
  }
  if (fresh_claim()) return absl::OkStatus();  // the other merge does the work
  pb::SearchManifest claim = read->manifest;
  // Never older than what is claimed already: the frontier only moves to newer ids.
  std::string floor = IdFloor(now_micros - kMergeLag);
  if (!claim.frontier().empty()) floor = std::min(floor, claim.frontier());
  if (!claim.intent().empty()) floor = std::min(floor, claim.intent());
  claim.set_intent(floor);
  const std::string claimed = claim.SerializeAsString();
  auto taken = kvs.CPut(row, kManifestColumn, Expected(*read), claimed);
  if (!taken.ok()) return taken.status();
  if (!*taken) return absl::OkStatus();  // another merge moved first

  Folded folded;
  auto segments = FoldClaimed(kvs, row, floor, read->manifest.frontier(), now_micros, &folded);
  if (!segments.ok()) return segments.status();
  pb::SearchManifest done = claim;
  done.clear_intent();
  done.set_frontier(floor);
  for (auto& segment : *segments) *done.add_segments() = std::move(segment);
  // Before the commit: until then queries read "~unread" from the pending docs, after it
  // only from the cells.
  absl::StatusOr<bool> committed = false;
  if (auto s = RecordUnread(kvs, user, folded.unread); !s.ok()) {
    committed = s;
  } else {
    committed = kvs.CPut(row, kManifestColumn, claimed, done.SerializeAsString());
  }
  if (!committed.ok() || !*committed) {
    for (const auto& segment : done.segments()) {
      if (std::find_if(claim.segments().begin(), claim.segments().end(), [&](const auto& s) {
            return s.name() == segment.name();
          }) == claim.segments().end()) {
        (void)DeleteSegment(kvs, row, segment);
      }
    }
    return committed.status();
  }
  // The markers' docs are in a segment now.
  const std::vector<std::string>& late = folded.late;
  auto cleared =
      RunTogether(late.size(), [&](size_t i) { return kvs.Delete(row, LateColumn(late[i])); });
  if (!cleared.ok()) return cleared;
  for (int round = 0; round < kMaxCompactions; ++round) {
    auto compacted = CompactOnce(kvs, user, now_micros, options.max_compacted_messages);
    if (!compacted.ok()) return compacted.status();
    if (!*compacted) break;
  }
  return absl::OkStatus();
}

}  // namespace penncloud::mail
