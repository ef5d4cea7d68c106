// Words for the full-text index: Unicode word boundaries (ICU's BreakIterator, UAX #29
// with dictionaries for scripts written without spaces) and NFKC case folding (ICU), so
// "Straße", "STRASSE" and "strasse" are one word, as are "ＡＢＣ" and "abc".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace penncloud::mail {

// Words longer than this (after folding) are not indexed: they are hashes, base64 or
// junk, and would only make posting keys long.
inline constexpr size_t kMaxWordBytes = 64;

// The words of `text` (UTF-8; bad bytes count as separators), folded, in text order, at
// most `max_words` of them. Punctuation and spaces are not words; numbers are. A word
// holding '@' or '.' (an address, a host name) is followed by its parts: the local part,
// the domain, and the pieces between dots.
std::vector<std::string> Words(std::string_view text, size_t max_words);

}  // namespace penncloud::mail
