// The search language of webmail (DESIGN.md, GET /api/mail/search?q=):
//
//   free words            each must occur in the subject, sender, recipients, body text or
//                         an attachment's name
//   "a quoted phrase"     these words, next to each other, in one of those
//   from: to: subject:    a word or a quoted phrase in that field only (to: also reads Cc)
//   in:FOLDER             one folder (inbox, sent, drafts, trash, junk or a user folder)
//   is:unread  has:attachment
//   before:YYYY-MM-DD after:YYYY-MM-DD   arrival before / on or after that day (UTC)
//
// Every condition must hold. Words are matched whole, after the index's folding
// (search_tokenizer.h). Anything else (an unknown operator, a bad date, an unbalanced
// quote, too long a query) is an error whose message says what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::mail {

inline constexpr size_t kMaxQueryBytes = 512;
inline constexpr size_t kMaxQueryWords = 16;

// Where a word must occur; its posting keys are "<field letter>:<word>".
enum class SearchField : char { kAny = 'w', kFrom = 'f', kTo = 't', kSubject = 's' };

struct SearchPhrase {
  SearchField field = SearchField::kAny;
  std::vector<std::string> words;  // folded, at least two
};

struct SearchQuery {
  std::vector<std::string> keys;      // posting keys every hit has ("w:word", "s:word", ...)
  std::vector<SearchPhrase> phrases;  // checked against the message itself
  std::optional<std::string> folder;
  bool unread = false;
  bool has_attachment = false;
  std::optional<int64_t> before_micros;  // arrived strictly before
  std::optional<int64_t> after_micros;   // arrived at or after
};

std::string PostingKey(SearchField field, std::string_view word);

// kInvalidArgument with a message meant for the user.
absl::StatusOr<SearchQuery> ParseSearchQuery(std::string_view query);

}  // namespace penncloud::mail
