#include "mail/search_query.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/time/time.h"
#include "mail/mail_store.h"
#include "mail/search_tokenizer.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

absl::Status Bad(std::string_view why) { return absl::InvalidArgumentError(std::string(why)); }

// One whitespace-separated part of the query: an optional "name:" and a value that may be
// quoted (then `quoted` is set and the quotes are gone).
struct Part {
  std::string op;
  std::string value;
  bool quoted = false;
};

bool IsOperatorName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalpha(static_cast<unsigned char>(c));
  });
}

absl::StatusOr<std::vector<Part>> Split(std::string_view q) {
  std::vector<Part> parts;
  size_t i = 0;
  while (i < q.size()) {
    if (absl::ascii_isspace(static_cast<unsigned char>(q[i]))) {
      ++i;
      continue;
    }
    Part part;
    size_t start = i;
    while (i < q.size() && !absl::ascii_isspace(static_cast<unsigned char>(q[i])) && q[i] != '"' &&
           q[i] != ':') {
      ++i;
    }
    if (i < q.size() && q[i] == ':' && IsOperatorName(q.substr(start, i - start))) {
      part.op = ToLower(q.substr(start, i - start));
      start = ++i;
    }
    if (i == start && i < q.size() && q[i] == '"') {
      size_t close = q.find('"', i + 1);
      if (close == std::string_view::npos) return Bad("a quote is not closed");
      part.value = std::string(q.substr(i + 1, close - i - 1));
      part.quoted = true;
      i = close + 1;
      if (i < q.size() && !absl::ascii_isspace(static_cast<unsigned char>(q[i]))) {
        return Bad("a closing quote must be followed by a space");
      }
    } else {
      while (i < q.size() && !absl::ascii_isspace(static_cast<unsigned char>(q[i]))) {
        if (q[i] == '"') return Bad("a quote starts inside a word");
        ++i;
      }
      part.value = std::string(q.substr(start, i - start));
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

// Midnight UTC of a YYYY-MM-DD day, in Unix microseconds.
absl::StatusOr<int64_t> Day(std::string_view op, std::string_view value) {
  absl::Time t;
  std::string err;
  bool shaped = value.size() == 10 && value[4] == '-' && value[7] == '-';
  if (!shaped || !absl::ParseTime("%Y-%m-%d", std::string(value), absl::UTCTimeZone(), &t, &err) ||
      absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()) != value) {
    return Bad(Cat(op, ": wants a date as YYYY-MM-DD, not '", value, "'"));
  }
  return absl::ToUnixMicros(t);
}

absl::Status AddWords(SearchField field, const Part& part, SearchQuery* q) {
  std::vector<std::string> words = Words(part.value, kMaxQueryWords + 1);
  if (words.empty() && !part.op.empty()) return Bad(Cat(part.op, ": has no word to look for"));
  for (const std::string& w : words) q->keys.push_back(PostingKey(field, w));
  if (part.quoted && words.size() > 1) q->phrases.push_back({field, std::move(words)});
  return absl::OkStatus();
}

absl::Status Apply(const Part& part, SearchQuery* q) {
  const std::string& op = part.op;
  if (op.empty()) return AddWords(SearchField::kAny, part, q);
  if (op == "from") return AddWords(SearchField::kFrom, part, q);
  if (op == "to") return AddWords(SearchField::kTo, part, q);
  if (op == "subject") return AddWords(SearchField::kSubject, part, q);
  if (op == "in") {
    std::string folder = part.value;
    for (std::string_view system : kSystemFolders) {
      if (EqualsIgnoreCase(folder, system)) folder = std::string(system);
    }
    if (!IsFolder(folder) && !CheckUserFolderName(folder).ok()) {
      return Bad(Cat("in: names no folder: '", part.value, "'"));
    }
    if (q->folder && *q->folder != folder) return Bad("in: is given twice");
    q->folder = std::move(folder);
    return absl::OkStatus();
  }
  if (op == "is") {
    if (!EqualsIgnoreCase(part.value, "unread")) return Bad("is: takes only 'unread'");
    q->unread = true;
    return absl::OkStatus();
  }
  if (op == "has") {
    if (!EqualsIgnoreCase(part.value, "attachment")) return Bad("has: takes only 'attachment'");
    q->has_attachment = true;
    return absl::OkStatus();
  }
  if (op == "before" || op == "after") {
    auto day = Day(op, part.value);
    if (!day.ok()) return day.status();
    std::optional<int64_t>& bound = op == "before" ? q->before_micros : q->after_micros;
    if (bound) return Bad(Cat(op, ": is given twice"));
    bound = *day;
    return absl::OkStatus();
  }
  return Bad(Cat("unknown operator '", op,
                 ":' (from: to: subject: in: is:unread has:attachment before: after:)"));
}

}  // namespace

std::string PostingKey(SearchField field, std::string_view word) {
  return Cat(static_cast<char>(field), ':', word);
}

absl::StatusOr<SearchQuery> ParseSearchQuery(std::string_view query) {
  if (query.size() > kMaxQueryBytes) {
    return Bad(Cat("the query is longer than ", kMaxQueryBytes, " bytes"));
  }
  if (!IsValidUtf8(query)) return Bad("the query is not UTF-8");
  auto parts = Split(query);
  if (!parts.ok()) return parts.status();
  SearchQuery q;
  for (const Part& part : *parts) {
    if (auto s = Apply(part, &q); !s.ok()) return s;
  }
  if (q.keys.size() > kMaxQueryWords) {
    return Bad(Cat("the query has more than ", kMaxQueryWords, " words"));
  }
  std::sort(q.keys.begin(), q.keys.end());
  q.keys.erase(std::unique(q.keys.begin(), q.keys.end()), q.keys.end());
  if (q.keys.empty() && !q.folder && !q.unread && !q.has_attachment && !q.before_micros &&
      !q.after_micros) {
    return Bad("the query is empty");
  }
  return q;
}

}  // namespace penncloud::mail
