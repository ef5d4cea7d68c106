#include "mail/search_oracle.h"

#include <algorithm>
#include <set>

#include "mail/search_tokenizer.h"

namespace penncloud::mail::testing {
namespace {

std::vector<std::string> All(std::string_view text) { return Words(text, 1 << 20); }

bool HasRun(const std::vector<std::string>& words, const std::vector<std::string>& run) {
  return std::search(words.begin(), words.end(), run.begin(), run.end()) != words.end();
}

}  // namespace

bool OracleMatches(const SearchQuery& query, const pb::MessageMeta& meta,
                   const std::string& source) {
  ParsedMessage parsed = ParseMessage(source);
  std::vector<std::vector<std::string>> from{All(parsed.from)}, to{All(parsed.to), All(parsed.cc)},
      subject{All(parsed.subject)};
  std::vector<std::vector<std::string>> any = {All(parsed.from), All(parsed.to), All(parsed.cc),
                                               All(parsed.subject), All(parsed.text)};
  for (const Attachment& a : parsed.attachments) any.push_back(All(a.filename));
  auto in = [](const std::vector<std::vector<std::string>>& fields,
               const std::vector<std::string>& run) {
    return std::any_of(fields.begin(), fields.end(),
                       [&](const std::vector<std::string>& f) { return HasRun(f, run); });
  };
  auto fields_of = [&](char letter) -> const std::vector<std::vector<std::string>>& {
    return letter == 'f' ? from : letter == 't' ? to : letter == 's' ? subject : any;
  };
  for (const std::string& key : query.keys) {
    if (!in(fields_of(key[0]), {key.substr(2)})) return false;
  }
  for (const SearchPhrase& p : query.phrases) {
    if (!in(fields_of(static_cast<char>(p.field)), p.words)) return false;
  }
  if (query.folder && meta.folder() != *query.folder) return false;
  if (query.unread && meta.seen()) return false;
  if (query.has_attachment && parsed.attachments.empty()) return false;
  if (query.before_micros && meta.received_micros() >= *query.before_micros) return false;
  if (query.after_micros && meta.received_micros() < *query.after_micros) return false;
  return true;
}

std::vector<std::string> OracleSearch(MailStore& store, std::string_view user,
                                      const SearchQuery& query) {
  std::set<std::string> ids;
  auto folders = store.Folders(user);
  if (!folders.ok()) return {};
  for (const std::string& folder : *folders) {
    auto all = store.ListAll(user, folder);
    if (!all.ok()) return {};
    for (const pb::MessageMeta& meta : *all) {
      auto source = store.Source(user, meta);
      if (source.ok() && OracleMatches(query, meta, *source)) ids.insert(meta.id());
    }
  }
  return {ids.begin(), ids.end()};  // ids ascend newest first
}

}  // namespace penncloud::mail::testing
