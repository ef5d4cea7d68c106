#include "mail/search_index.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "mail/delivery_pool.h"
#include "mail/search_concurrency.h"
#include "mail/search_query.h"
#include "mail/search_tokenizer.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

constexpr size_t kIdLength = 32;
constexpr std::string_view kDocPrefix = "d/";
constexpr std::string_view kVersionColumn = "v";
// Threads writing one message's postings: enough to fill the client's batches, few enough
// to stay cheap next to the writes themselves.
constexpr size_t kWriters = 16;
constexpr size_t kMaxWordsPerField = 20000;

std::string PostingColumn(std::string_view key, std::string_view id) {
  return Cat("p/", key, "/", id);
}
std::string DocColumn(std::string_view id) { return Cat(kDocPrefix, id); }

void AddField(SearchField field, std::string_view text, std::set<std::string>* keys) {
  for (const std::string& w : Words(text, kMaxWordsPerField)) {
    keys->insert(PostingKey(SearchField::kAny, w));
    if (field != SearchField::kAny) keys->insert(PostingKey(field, w));
  }
}

}  // namespace

std::string SearchRow(std::string_view user) { return Cat("mailsearch/", user); }
std::string FolderKey(std::string_view folder) {
  // '/' escaped (and so '%'): no key may hold the separator before the id.
  std::string key = "~in:";
  for (char c : folder) {
    if (c == '%') {
      key += "%25";
    } else if (c == '/') {
      key += "%2F";
    } else {
      key += c;
    }
  }
  return key;
}

std::vector<std::string> KeysOf(const ParsedMessage& message) {
  std::set<std::string> keys;
  AddField(SearchField::kSubject, message.subject, &keys);
  AddField(SearchField::kFrom, message.from, &keys);
  AddField(SearchField::kTo, message.to, &keys);
  AddField(SearchField::kTo, message.cc, &keys);
  for (const Attachment& a : message.attachments) AddField(SearchField::kAny, a.filename, &keys);
  AddField(SearchField::kAny, message.text, &keys);
  std::vector<std::string> out;
  out.push_back(std::string(kAllKey));
  if (!message.attachments.empty()) out.push_back(std::string(kAttachmentKey));
  for (const std::string& k : keys) {
    if (out.size() == kMaxKeysPerMessage) break;
    out.push_back(k);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t IdMicros(std::string_view id) {
  uint64_t inverted = 0;
  if (id.size() != kIdLength || !absl::SimpleHexAtoi(std::string(id.substr(0, 16)), &inverted))
    return 0;
  return static_cast<int64_t>(~inverted);
}

SearchIndex::SearchIndex(kvs::Client& kvs, std::function<int64_t()> now_micros)
    : kvs_(kvs), now_micros_(std::move(now_micros)) {}

absl::Status SearchIndex::PutAll(std::string_view user, const std::vector<std::string>& columns) {
  const std::string row = SearchRow(user);
  return RunTogether(columns.size(), [&](size_t i) { return kvs_.Put(row, columns[i], ""); });
}

absl::Status SearchIndex::DeleteAll(std::string_view user,
                                    const std::vector<std::string>& columns) {
  const std::string row = SearchRow(user);
  return ForEachConcurrently(columns.size(), kWriters,
                             [&](size_t i) { return kvs_.Delete(row, columns[i]); });
}

absl::Status SearchIndex::Add(std::string_view user, std::string_view id, std::string_view folder,
                              const ParsedMessage& message, bool unread) {
  pb::SearchDoc doc;
  doc.set_folder(std::string(folder));
  for (std::string& key : KeysOf(message)) doc.add_keys(std::move(key));
  // The doc first: whoever finds a leftover posting can then remove all of them.
  if (auto s = kvs_.Put(SearchRow(user), DocColumn(id), doc.SerializeAsString()); !s.ok()) return s;
  std::vector<std::string> columns;
  columns.reserve(doc.keys_size() + 2);
  for (const std::string& key : doc.keys()) columns.push_back(PostingColumn(key, id));
  columns.push_back(PostingColumn(FolderKey(folder), id));
  if (unread) columns.push_back(PostingColumn(kUnreadKey, id));
  return PutAll(user, columns);
}

absl::Status SearchIndex::Remove(std::string_view user, std::string_view id,
                                 const std::vector<std::string>& extra_keys) {
  auto doc = Doc(user, id);
  if (!doc.ok() && !absl::IsNotFound(doc.status())) return doc.status();
  std::vector<std::string> columns;
  for (const std::string& key : extra_keys) columns.push_back(PostingColumn(key, id));
  if (doc.ok()) {
    for (const std::string& key : doc->keys()) columns.push_back(PostingColumn(key, id));
    columns.push_back(PostingColumn(kUnreadKey, id));
    columns.push_back(PostingColumn(FolderKey(doc->folder()), id));
  }
  if (auto s = DeleteAll(user, columns); !s.ok()) return s;
  return doc.ok() ? kvs_.Delete(SearchRow(user), DocColumn(id)) : absl::OkStatus();
}

absl::Status SearchIndex::BeforeMove(std::string_view user, std::string_view id,
                                     std::string_view to) {
  return kvs_.Put(SearchRow(user), PostingColumn(FolderKey(to), id), "");
}

absl::Status SearchIndex::AfterMove(std::string_view user, std::string_view id,
                                    std::string_view from) {
  return kvs_.Delete(SearchRow(user), PostingColumn(FolderKey(from), id));
}

absl::Status SearchIndex::SetFolder(std::string_view user, std::string_view id,
                                    std::string_view folder) {
  auto doc = Doc(user, id);
  if (absl::IsNotFound(doc.status())) return absl::OkStatus();  // not indexed yet
  if (!doc.ok()) return doc.status();
  if (doc->folder() == folder) return absl::OkStatus();
  doc->set_folder(std::string(folder));
  return kvs_.Put(SearchRow(user), DocColumn(id), doc->SerializeAsString());
}

absl::Status SearchIndex::PutUnread(std::string_view user, std::string_view id) {
  return kvs_.Put(SearchRow(user), PostingColumn(kUnreadKey, id), "");
}

absl::Status SearchIndex::DropUnread(std::string_view user, std::string_view id,
                                     const std::function<bool()>& still_unread) {
  if (auto s = kvs_.Delete(SearchRow(user), PostingColumn(kUnreadKey, id)); !s.ok()) return s;
  return still_unread() ? PutUnread(user, id) : absl::OkStatus();
}

absl::StatusOr<pb::SearchDoc> SearchIndex::Doc(std::string_view user, std::string_view id) {
  auto value = kvs_.Get(SearchRow(user), DocColumn(id));
  if (!value.ok()) return value.status();
  pb::SearchDoc doc;
  if (!doc.ParseFromString(*value)) return absl::DataLossError("bad search index cell");
  return doc;
}

absl::StatusOr<std::vector<std::string>> SearchIndex::Postings(std::string_view user,
                                                               std::string_view key,
                                                               std::string_view after, int limit) {
  const std::string prefix = Cat("p/", key, "/");
  kvs::ListOptions options;
  options.after = Cat(prefix, after);
  options.limit = limit;
  auto page = kvs_.List(SearchRow(user), options);
  if (!page.ok()) return page.status();
  std::vector<std::string> ids;
  for (const kvs::Cell& cell : page->cells) {
    std::string_view column = cell.column;
    if (!column.starts_with(prefix)) break;  // past this key
    // A longer key that begins with this one ("w:a/b" after "w:a") is not ours.
    if (column.size() != prefix.size() + kIdLength) continue;
    ids.emplace_back(column.substr(prefix.size()));
  }
  return ids;
}

absl::StatusOr<std::vector<std::string>> SearchIndex::DocIds(std::string_view user,
                                                             std::string_view after, int limit) {
  kvs::ListOptions options;
  options.after = Cat(kDocPrefix, after);
  options.limit = limit;
  auto page = kvs_.List(SearchRow(user), options);
  if (!page.ok()) return page.status();
  std::vector<std::string> ids;
  for (const kvs::Cell& cell : page->cells) {
    if (!std::string_view(cell.column).starts_with(kDocPrefix)) break;
    ids.push_back(cell.column.substr(kDocPrefix.size()));
  }
  return ids;
}

bool SearchIndex::Complete(std::string_view user) {
  return kvs_.Get(SearchRow(user), kVersionColumn).ok();
}

absl::Status SearchIndex::MarkComplete(std::string_view user) {
  return kvs_.Put(SearchRow(user), kVersionColumn, "1");
}

}  // namespace penncloud::mail
