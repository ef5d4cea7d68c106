#include "mail/search.h"

#include <algorithm>

#include "mail/search_concurrency.h"
#include "mail/search_index.h"
#include "mail/search_intersection.h"
#include "mail/search_tokenizer.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

constexpr size_t kCheckers = 16;  // hits checked against the mailbox at once

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

absl::StatusOr<pb::MessageMeta> MailSearch::Resolve(std::string_view user, const std::string& id,
                                                    const std::vector<std::string>& keys) {
  SearchIndex& index = store_.index();
  auto doc = index.Doc(user, id);
  if (!doc.ok() && !absl::IsNotFound(doc.status())) return doc.status();
  if (doc.ok()) {
    auto meta = store_.Entry(user, doc->folder(), id);
    if (meta.ok() || !absl::IsNotFound(meta.status())) return meta;
  }
  // Moved since the doc was written, or never there: look everywhere.
  auto meta = store_.Find(user, id);
  if (meta.ok()) {
    if (!doc.ok()) return absl::NotFoundError("not indexed yet");
    if (auto s = index.SetFolder(user, id, meta->folder()); !s.ok()) return s;
    return meta;
  }
  if (!absl::IsNotFound(meta.status())) return meta.status();
  if (IdMicros(id) < index.Now() - kRepairGrace) {
    // A leftover of a delivery that stopped before the message was written, or of a
    // removal that stopped after: nobody is still writing it.
    if (auto s = index.Remove(user, id, keys); !s.ok()) return s;
  }
  return absl::NotFoundError("no such message");
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
  limit = std::clamp(limit, 1, kMaxSearchPage);
  if (auto s = IndexOlderMessages(user); !s.ok()) return s;
  const std::vector<std::string> keys = QueryKeys(query);
  PostingIntersection hits(store_.index(), user, keys, std::string(cursor), kSearchScanBudget);
  SearchPage page;
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
    auto checked = ForEachConcurrently(ids.size(), kCheckers, [&](size_t i) -> absl::Status {
      auto meta = Resolve(user, ids[i], keys);
      if (absl::IsNotFound(meta.status())) return absl::OkStatus();
      if (!meta.ok()) return meta.status();
      auto match = Matches(user, query, *meta);
      if (!match.ok()) return match.status();
      if (*match) found[i] = std::move(*meta);
      return absl::OkStatus();
    });
    if (!checked.ok()) return checked;
    for (auto& meta : found) {
      if (meta) page.messages.push_back(std::move(*meta));
    }
  }
  if (!hits.exhausted()) page.next_cursor = hits.position();
  return page;
}

absl::StatusOr<std::set<std::string>> MailSearch::FolderCandidates(
    std::string_view user, std::string_view folder, const std::vector<std::string>& words) {
  if (auto s = IndexOlderMessages(user); !s.ok()) return s;
  std::vector<std::string> keys{FolderKey(folder)};
  for (const std::string& w : words) keys.push_back(PostingKey(SearchField::kAny, w));
  PostingIntersection hits(store_.index(), user, std::move(keys), "", INT32_MAX);
  std::set<std::string> out;
  while (true) {
    auto next = hits.Next();
    if (!next.ok()) return next.status();
    if (!*next) return out;
    out.insert(std::move(**next));
  }
}

absl::Status MailSearch::IndexOlderMessages(std::string_view user) {
  SearchIndex& index = store_.index();
  if (index.Complete(user)) return absl::OkStatus();
  auto folders = store_.Folders(user);
  if (!folders.ok()) return folders.status();
  for (const std::string& folder : *folders) {
    auto messages = store_.ListAll(user, folder);
    if (!messages.ok()) return messages.status();
    for (const pb::MessageMeta& meta : *messages) {
      if (index.Doc(user, meta.id()).ok()) continue;
      auto source = store_.Source(user, meta);
      if (!source.ok()) return source.status();
      auto s = index.Add(user, meta.id(), folder, ParseMessage(*source), !meta.seen());
      if (!s.ok()) return s;
    }
  }
  return index.MarkComplete(user);
}

absl::StatusOr<int> MailSearch::Repair(std::string_view user) {
  SearchIndex& index = store_.index();
  int removed = 0;
  std::string after;
  while (true) {
    auto ids = index.DocIds(user, after, 1000);
    if (!ids.ok()) return ids.status();
    for (const std::string& id : *ids) {
      if (IdMicros(id) >= index.Now() - kRepairGrace) continue;
      auto meta = Resolve(user, id, {});
      if (absl::IsNotFound(meta.status())) {
        ++removed;
      } else if (!meta.ok()) {
        return meta.status();
      }
    }
    if (ids->size() < 1000) return removed;
    after = ids->back();
  }
}

}  // namespace penncloud::mail
