#include "mail/search.h"

#include <algorithm>
#include <atomic>
#include <map>

#include "mail/delivery_pool.h"
#include "mail/search_concurrency.h"
#include "mail/search_index.h"
#include "mail/search_intersection.h"
#include "mail/search_merge.h"
#include "mail/search_segments.h"
#include "mail/search_tokenizer.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

// Hits checked against the mailbox at once: a whole page, so the KVS client batches its
// reads in one round rather than several.
constexpr size_t kCheckers = kMaxSearchPage;
// A query starts again at most this often when a compaction replaced a segment under it.
constexpr int kSnapshotAttempts = 3;
constexpr int kListPage = 1000;
// A query's own merge compacts only segments smaller than this.
constexpr int64_t kQueryCompactsBelow = 256;
// How long Merge (the first search, a test, an operator) waits for a running merge.
constexpr std::chrono::milliseconds kMergeWait{10000};

// Whether `words` occur one after another among the words of `text`.
bool HasPhrase(std::string_view text, const std::vector<std::string>& words) {
  std::vector<std::string> all = Words(text, 1 << 20);
  return std::search(all.begin(), all.end(), words.begin(), words.end()) != all.end();
}

bool PhraseIn(const SearchPhrase& phrase, const pb::MessageMeta& meta,
              const ParsedMessage* parsed) {
  switch (phrase.field) {
    case SearchField::kFrom:
      return HasPhrase(meta.from(), phrase.words);
    case SearchField::kTo:
      return HasPhrase(meta.to(), phrase.words) || HasPhrase(meta.cc(), phrase.words);
    case SearchField::kSubject:
      return HasPhrase(meta.subject(), phrase.words);
    case SearchField::kAny:
      break;
  }
  if (HasPhrase(meta.subject(), phrase.words) || HasPhrase(meta.from(), phrase.words) ||
      HasPhrase(meta.to(), phrase.words) || HasPhrase(meta.cc(), phrase.words)) {
    return true;
  }
  if (parsed == nullptr) return false;
  if (HasPhrase(parsed->text, phrase.words)) return true;
  for (const Attachment& a : parsed->attachments) {
    if (HasPhrase(a.filename, phrase.words)) return true;
  }
  return false;
}

// The folder named most often in `folders` ("" for a message not found), or `otherwise`
// if none is named.
std::string MostCommonFolder(const std::vector<std::string>& folders, std::string otherwise) {
  std::map<std::string_view, int> count;
  int most = 0;
  for (const std::string& folder : folders) {
    if (folder.empty()) continue;
    if (const int n = ++count[folder]; n > most) {
      most = n;
      otherwise = folder;
    }
  }
  return otherwise;
}

}  // namespace

std::vector<std::string> QueryKeys(const SearchQuery& query) {
  std::vector<std::string> keys = query.keys;
  if (query.folder) keys.push_back(FolderKey(*query.folder));
  if (query.unread) keys.push_back(std::string(kUnreadKey));
  if (query.has_attachment) keys.push_back(std::string(kAttachmentKey));
  if (keys.empty()) keys.push_back(std::string(kAllKey));
  return keys;
}

MailSearch::MailSearch(MailStore& store) : store_(store) {}

absl::StatusOr<IndexSnapshot> MailSearch::Snapshot(std::string_view user) {
  kvs::Client& kvs = store_.index().kvs();
  auto snapshot = IndexSnapshot::Load(kvs, user, kMergeAt);
  if (!snapshot.ok() || !snapshot->partial()) return snapshot;
  // Many docs pend: fold them (a short merge: the larger compactions are the background
  // merges'), then read what is left, all of it, merged or not.
  auto merged =
      MergeIndex(kvs, user, store_.index().Now(), {.max_compacted_messages = kQueryCompactsBelow});
  if (!merged.ok()) return merged;
  return IndexSnapshot::Load(kvs, user, -1);
}

absl::Status MailSearch::Merge(std::string_view user) {
  return MergeIndex(store_.index().kvs(), user, store_.index().Now(),
                    {.wait_for_claim = kMergeWait});
}

absl::StatusOr<pb::MessageMeta> MailSearch::Resolve(std::string_view user, const std::string& id,
                                                    std::string_view likely_folder) {
  // An entry is written after its message's doc and removed before it, so an entry found
  // is a message that exists: its doc, read only for the folder, is not needed.
  if (!likely_folder.empty()) {
    auto meta = store_.Entry(user, likely_folder, id);
    if (!absl::IsNotFound(meta.status())) return meta;
  }
  SearchIndex& index = store_.index();
  auto doc = index.Doc(user, id);
  // No doc: a message removed (its doc goes last) whose postings a segment still holds.
  if (absl::IsNotFound(doc.status())) return absl::NotFoundError("no such message");
  if (!doc.ok()) return doc.status();
  if (doc->folder() != likely_folder) {
    auto meta = store_.Entry(user, doc->folder(), id);
    if (meta.ok() || !absl::IsNotFound(meta.status())) return meta;
  }
  // Moved since the doc was written, or never there: look everywhere.
  auto meta = store_.Find(user, id);
  if (meta.ok()) {
    if (auto s = index.SetFolder(user, id, meta->folder()); !s.ok()) return s;
    return meta;
  }
  if (!absl::IsNotFound(meta.status())) return meta.status();
  if (Abandoned(id)) {
    // A leftover of a delivery that stopped before the message was written, or of a
    // removal that stopped after: nobody is still writing it.
    if (auto s = index.Remove(user, id); !s.ok()) return s;
  }
  return absl::NotFoundError("no such message");
}

bool MailSearch::Abandoned(std::string_view id) {
  return IdMicros(id) < store_.index().Now() - kRepairGrace;
}

absl::Status MailSearch::DropSpareUnreadCell(std::string_view user, const std::string& id) {
  return store_.index().DropUnread(user, id, [&] {
    auto meta = store_.Find(user, id);
    return meta.ok() ? !meta->seen() : !absl::IsNotFound(meta.status());
  });
}

absl::StatusOr<bool> MailSearch::Matches(std::string_view user, const SearchQuery& query,
                                         const pb::MessageMeta& meta) {
  if (query.folder && meta.folder() != *query.folder) return false;
  if (query.unread && meta.seen()) return false;
  if (query.has_attachment && !meta.has_attachments()) return false;
  if (query.before_micros && meta.received_micros() >= *query.before_micros) return false;
  if (query.after_micros && meta.received_micros() < *query.after_micros) return false;
  if (query.phrases.empty()) return true;
  std::optional<ParsedMessage> parsed;
  for (const SearchPhrase& phrase : query.phrases) {
    if (phrase.field == SearchField::kAny && !parsed) {
      auto source = store_.Source(user, meta);
      if (!source.ok()) return source.status();
      parsed = ParseMessage(*source);
    }
    if (!PhraseIn(phrase, meta, parsed ? &*parsed : nullptr)) return false;
  }
  return true;
}

absl::StatusOr<SearchPage> MailSearch::Search(std::string_view user, const SearchQuery& query,
                                              std::string_view cursor, int limit) {
  if (auto s = IndexOlderMessages(user); !s.ok()) return s;
  for (int attempt = 1;; ++attempt) {
    auto page = SearchOnce(user, query, cursor, limit);
    if (!absl::IsAborted(page.status()) || attempt == kSnapshotAttempts) return page;
  }
}

absl::StatusOr<SearchPage> MailSearch::SearchOnce(std::string_view user, const SearchQuery& query,
                                                  std::string_view cursor, int limit) {
  limit = std::clamp(limit, 1, kMaxSearchPage);
  auto snapshot = Snapshot(user);
  if (!snapshot.ok()) return snapshot.status();
  // Matches checks the folder and the unread flag on every hit's entry.
  std::vector<std::string> checked;
  if (query.folder) checked.push_back(FolderKey(*query.folder));
  if (query.unread) checked.push_back(std::string(kUnreadKey));
  std::vector<std::string> keys = QueryKeys(query);
  if (auto s = snapshot->Locate(keys); !s.ok()) return s;
  PostingIntersection hits(*snapshot, std::move(keys), std::string(cursor), kSearchScanBudget,
                           checked);
  SearchPage page;
  // Where the next hits' entries are looked for first: the query's folder; without one the
  // inbox (most mail is there), then the folder most of the last batch's hits were in.
  std::string likely_folder(query.folder ? *query.folder : kInbox);
  while (static_cast<int>(page.messages.size()) < limit) {
    // A batch of candidates, checked together.
    std::vector<std::string> ids;
    while (ids.size() + page.messages.size() < static_cast<size_t>(limit)) {
      auto next = hits.Next();
      if (!next.ok()) return next.status();
      if (!*next) break;
      ids.push_back(std::move(**next));
    }
    if (ids.empty()) break;
    std::vector<std::optional<pb::MessageMeta>> found(ids.size());
    std::vector<std::string> resolved(ids.size());  // the folder of each message found
    // Messages found with and without the folder and unread flag the query asks for.
    std::atomic<int> with_checked{0}, without_checked{0};
    auto checked = ForEachConcurrently(ids.size(), kCheckers, [&](size_t i) -> absl::Status {
      auto meta = Resolve(user, ids[i], likely_folder);
      const bool spare_unread_cell =
          query.unread && snapshot->HasUnreadCell(ids[i]) &&
          (meta.ok() ? meta->seen() : absl::IsNotFound(meta.status()) && Abandoned(ids[i]));
      if (spare_unread_cell) {
        if (auto s = DropSpareUnreadCell(user, ids[i]); !s.ok()) return s;
      }
      if (absl::IsNotFound(meta.status())) return absl::OkStatus();
      if (!meta.ok()) return meta.status();
      resolved[i] = meta->folder();
      const bool has_checked =
          (!query.folder || meta->folder() == *query.folder) && (!query.unread || !meta->seen());
      ++(has_checked ? with_checked : without_checked);
      auto match = Matches(user, query, *meta);
      if (!match.ok()) return match.status();
      if (*match) found[i] = std::move(*meta);
      return absl::OkStatus();
    });
    if (!checked.ok()) return checked;
    if (without_checked > with_checked) hits.Undrop();
    if (!query.folder) likely_folder = MostCommonFolder(resolved, likely_folder);
    for (auto& meta : found) {
      if (meta) page.messages.push_back(std::move(*meta));
    }
  }
  if (!hits.exhausted()) page.next_cursor = hits.position();
  return page;
}

absl::StatusOr<std::set<std::string>> MailSearch::Candidates(
    std::string_view user, const std::vector<std::string>& words) {
  if (auto s = IndexOlderMessages(user); !s.ok()) return s;
  std::vector<std::string> keys;
  for (const std::string& w : words) keys.push_back(PostingKey(SearchField::kAny, w));
  for (int attempt = 1;; ++attempt) {
    auto snapshot = Snapshot(user);
    if (!snapshot.ok()) return snapshot.status();
    if (auto s = snapshot->Locate(keys); !s.ok()) {
      if (absl::IsAborted(s) && attempt < kSnapshotAttempts) continue;
      return s;
    }
    PostingIntersection hits(*snapshot, keys, "", INT32_MAX);
    std::set<std::string> out;
    absl::Status status;
    while (true) {
      auto next = hits.Next();
      if (!next.ok()) {
        status = next.status();
        break;
      }
      if (!*next) return out;
      out.insert(std::move(**next));
    }
    if (!absl::IsAborted(status) || attempt == kSnapshotAttempts) return status;
  }
}

absl::Status MailSearch::IndexOlderMessages(std::string_view user) {
  SearchIndex& index = store_.index();
  index.Touched(user);
  if (index.Complete(user)) return absl::OkStatus();
  auto docs = IdsUnder(index.kvs(), user, kDocPrefix);
  if (!docs.ok()) return docs.status();
  const std::set<std::string> indexed(docs->begin(), docs->end());
  // Merges since the first delivery wrote most unread cells already.
  auto cells = IdsUnder(index.kvs(), user, kUnreadPrefix);
  if (!cells.ok()) return cells.status();
  const std::set<std::string> has_cell(cells->begin(), cells->end());
  auto folders = store_.Folders(user);
  if (!folders.ok()) return folders.status();
  for (const std::string& folder : *folders) {
    auto messages = store_.ListAll(user, folder);
    if (!messages.ok()) return messages.status();
    std::vector<std::string> unread;
    for (const pb::MessageMeta& meta : *messages) {
      if (indexed.contains(meta.id())) {
        if (!meta.seen() && !has_cell.contains(meta.id())) unread.push_back(meta.id());
        continue;
      }
      auto source = store_.Source(user, meta);
      if (!source.ok()) return source.status();
      auto s = index.Add(user, meta.id(), folder, ParseMessage(*source), !meta.seen());
      if (!s.ok()) return s;
    }
    // Older layouts kept the unread postings of merged messages in segments (layout 2) or
    // in "p/~unread/" cells (layout 1); queries read only the unread cells now. A change
    // to read racing this leaves a spare cell, which the query that meets it drops.
    auto s = RunTogether(unread.size(), [&](size_t i) { return index.PutUnread(user, unread[i]); });
    if (!s.ok()) return s;
  }
  if (auto s = Merge(user); !s.ok()) return s;
  return index.MarkComplete(user);
}

absl::Status MailSearch::SweepCells(
    std::string_view user, std::string_view prefix,
    const std::function<absl::StatusOr<bool>(const std::string&)>& stale) {
  kvs::Client& kvs = store_.index().kvs();
  const std::string row = SearchRow(user);
  for (std::string after(prefix);;) {
    auto page = kvs.List(row, {.after = after, .limit = kListPage, .with_values = false});
    if (!page.ok()) return page.status();
    std::vector<std::string> doomed;
    bool past = false;
    for (const kvs::Cell& cell : page->cells) {
      if (!std::string_view(cell.column).starts_with(prefix)) {
        past = true;
        break;
      }
      auto is_stale = stale(cell.column);
      if (!is_stale.ok()) return is_stale.status();
      if (*is_stale) doomed.push_back(cell.column);
    }
    auto s = RunTogether(doomed.size(), [&](size_t i) { return kvs.Delete(row, doomed[i]); });
    if (!s.ok()) return s;
    if (past || !page->more || page->cells.empty()) return absl::OkStatus();
    after = page->cells.back().column;
  }
}

absl::StatusOr<int> MailSearch::Repair(std::string_view user) {
  SearchIndex& index = store_.index();
  const int64_t old = index.Now() - kRepairGrace;
  int removed = 0;
  auto docs = SweepCells(user, kDocPrefix, [&](const std::string& column) -> absl::StatusOr<bool> {
    const std::string id = column.substr(kDocPrefix.size());
    if (IdMicros(id) >= old) return false;
    auto meta = Resolve(user, id);
    if (absl::IsNotFound(meta.status())) ++removed;
    if (!meta.ok() && !absl::IsNotFound(meta.status())) return meta.status();
    return false;  // Resolve removed it
  });
  if (!docs.ok()) return docs;
  // Unread cells and late markers of messages whose doc is gone.
  auto without_doc = [&](std::string_view prefix) {
    return SweepCells(user, prefix, [&](const std::string& column) -> absl::StatusOr<bool> {
      const std::string id = column.substr(prefix.size());
      if (IdMicros(id) >= old) return false;
      auto doc = index.Doc(user, id);
      if (absl::IsNotFound(doc.status())) return true;
      if (!doc.ok()) return doc.status();
      return false;
    });
  };
  if (auto s = without_doc(kUnreadPrefix); !s.ok()) return s;
  if (auto s = without_doc(kLatePrefix); !s.ok()) return s;
  // Segments a crashed merge wrote and never listed.
  auto manifest = ReadManifest(index.kvs(), user);
  if (!manifest.ok()) return manifest.status();
  std::set<std::string, std::less<>> listed;
  for (const auto& segment : manifest->manifest.segments()) listed.insert(segment.name());
  auto orphans = SweepCells(user, kSegmentPrefix, [&](const std::string& column) {
    std::string_view name = SegmentOfColumn(column);
    return !listed.contains(name) && IdMicros(name) < old;
  });
  if (!orphans.ok()) return orphans;
  // Layout 1's postings, read by nothing.
  for (bool swept = false; !swept;) {
    auto done = SweepFirstLayout(index.kvs(), user, kListPage);
    if (!done.ok()) return done.status();
    swept = *done;
  }
  return removed;
}

}  // namespace penncloud::mail
