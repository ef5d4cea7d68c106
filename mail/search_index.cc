#include "mail/search_index.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "mail/delivery_pool.h"
#include "mail/search_query.h"
#include "mail/search_tokenizer.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

constexpr size_t kIdLength = 32;
constexpr std::string_view kVersionColumn = "v";
constexpr std::string_view kVersion = "3";
constexpr std::string_view kFolderKeyPrefix = "~in:";
constexpr size_t kMaxWordsPerField = 20000;
constexpr int kListPage = 1000;

void AddField(SearchField field, std::string_view text, std::set<std::string>* keys) {
  for (const std::string& w : Words(text, kMaxWordsPerField)) {
    keys->insert(PostingKey(SearchField::kAny, w));
    if (field != SearchField::kAny) keys->insert(PostingKey(field, w));
  }
}

}  // namespace

std::string SearchRow(std::string_view user) { return Cat("mailsearch/", user); }
std::string DocColumn(std::string_view id) { return Cat(kDocPrefix, id); }
std::string LateColumn(std::string_view id) { return Cat(kLatePrefix, id); }
std::string UnreadColumn(std::string_view id) { return Cat(kUnreadPrefix, id); }

std::string FolderKey(std::string_view folder) { return Cat(kFolderKeyPrefix, folder); }
bool IsFolderKey(std::string_view key) { return key.starts_with(kFolderKeyPrefix); }
std::string_view FolderOfKey(std::string_view key) { return key.substr(kFolderKeyPrefix.size()); }

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

std::string IdFloor(int64_t micros) {
  return absl::StrFormat("%016x%016x", ~static_cast<uint64_t>(micros), uint64_t{0});
}

absl::StatusOr<ManifestRead> ReadManifest(kvs::Client& kvs, std::string_view user) {
  ManifestRead read;
  auto value = kvs.Get(SearchRow(user), kManifestColumn);
  if (absl::IsNotFound(value.status())) return read;
  if (!value.ok()) return value.status();
  if (!read.manifest.ParseFromString(*value)) {
    return absl::DataLossError("bad search manifest cell");
  }
  read.raw = std::move(*value);
  return read;
}

bool Claimed(const pb::SearchManifest& manifest, std::string_view id) {
  // The intent, when there is one, is never older than the frontier.
  const std::string& boundary = manifest.intent().empty() ? manifest.frontier() : manifest.intent();
  return !boundary.empty() && id >= boundary;
}

absl::StatusOr<bool> SweepFirstLayout(kvs::Client& kvs, std::string_view user, int max_cells) {
  constexpr std::string_view kPostingPrefix = "p/";
  const std::string row = SearchRow(user);
  auto page = kvs.List(
      row, {.after = std::string(kPostingPrefix), .limit = max_cells, .with_values = false});
  if (!page.ok()) return page.status();
  std::vector<std::string> doomed;
  for (const kvs::Cell& cell : page->cells) {
    if (!std::string_view(cell.column).starts_with(kPostingPrefix)) break;
    doomed.push_back(cell.column);
  }
  auto s = RunTogether(doomed.size(), [&](size_t i) { return kvs.Delete(row, doomed[i]); });
  if (!s.ok()) return s;
  return doomed.size() < page->cells.size() || !page->more;
}

SearchIndex::SearchIndex(kvs::Client& kvs, std::function<int64_t()> now_micros)
    : kvs_(kvs),
      now_micros_(std::move(now_micros)),
      manifest_reads_(kvs),
      merger_(kvs_, now_micros_) {}

void SearchIndex::MergeInBackground(int every) { merger_.MergeEvery(every); }

void SearchIndex::Touched(std::string_view user) { merger_.Touched(user); }

absl::Status SearchIndex::Add(std::string_view user, std::string_view id, std::string_view folder,
                              const ParsedMessage& message, bool unread) {
  if (auto s = WriteDoc(user, id, folder, message, unread); !s.ok()) return s;
  return MarkIfLate(user, id);
}

absl::Status SearchIndex::WriteDoc(std::string_view user, std::string_view id,
                                   std::string_view folder, const ParsedMessage& message,
                                   bool unread) {
  pb::SearchDoc doc;
  doc.set_folder(std::string(folder));
  std::vector<std::string> keys = KeysOf(message);
  if (unread)
    keys.insert(std::upper_bound(keys.begin(), keys.end(), kUnreadKey), std::string(kUnreadKey));
  for (std::string& key : keys) doc.add_keys(std::move(key));
  return kvs_.Put(SearchRow(user), DocColumn(id), doc.SerializeAsString());
}

absl::Status SearchIndex::MarkIfLate(std::string_view user, std::string_view id) {
  // Read after the doc is written: a merge that claimed this id before then has not
  // listed the doc, and its intent is visible here.
  auto manifest = manifest_reads_.ReadAfterNow(user);
  if (!manifest.ok()) return manifest.status();
  if (Claimed(*manifest, id)) {
    if (auto s = kvs_.Put(SearchRow(user), LateColumn(id), ""); !s.ok()) return s;
  }
  merger_.Delivered(user);
  return absl::OkStatus();
}

absl::Status SearchIndex::Remove(std::string_view user, std::string_view id) {
  const std::string row = SearchRow(user);
  const std::string columns[] = {UnreadColumn(id), LateColumn(id)};
  auto gone = RunTogether(2, [&](size_t i) { return kvs_.Delete(row, columns[i]); });
  if (!gone.ok()) return gone;
  // The doc last: while it exists, whoever meets the message's postings can still tell
  // it was indexed.
  return kvs_.Delete(row, DocColumn(id));
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
  return kvs_.Put(SearchRow(user), UnreadColumn(id), "");
}

absl::Status SearchIndex::DropUnread(std::string_view user, std::string_view id,
                                     const std::function<bool()>& still_unread) {
  if (auto s = kvs_.Delete(SearchRow(user), UnreadColumn(id)); !s.ok()) return s;
  return still_unread() ? PutUnread(user, id) : absl::OkStatus();
}

absl::StatusOr<pb::SearchDoc> SearchIndex::Doc(std::string_view user, std::string_view id) {
  auto value = kvs_.Get(SearchRow(user), DocColumn(id));
  if (!value.ok()) return value.status();
  pb::SearchDoc doc;
  if (!doc.ParseFromString(*value)) return absl::DataLossError("bad search index cell");
  return doc;
}

absl::StatusOr<std::vector<std::string>> IdsUnder(kvs::Client& kvs, std::string_view user,
                                                  std::string_view prefix) {
  std::vector<std::string> ids;
  kvs::ListOptions options;
  options.after = std::string(prefix);
  options.limit = kListPage;
  while (true) {
    auto page = kvs.List(SearchRow(user), options);
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      if (!std::string_view(cell.column).starts_with(prefix)) return ids;
      ids.push_back(cell.column.substr(prefix.size()));
    }
    if (!page->more || page->cells.empty()) return ids;
    options.after = page->cells.back().column;
  }
}

bool SearchIndex::Complete(std::string_view user) {
  auto version = kvs_.Get(SearchRow(user), kVersionColumn);
  return version.ok() && *version == kVersion;
}

absl::Status SearchIndex::MarkComplete(std::string_view user) {
  return kvs_.Put(SearchRow(user), kVersionColumn, kVersion);
}

}  // namespace penncloud::mail
