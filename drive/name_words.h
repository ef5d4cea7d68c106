// The words of a file name as the name search compares them: Unicode case folding with
// compatibility forms unified (NFKC_Casefold, so "Straße" and "STRASSE", "ﬁle" and "file"
// meet) and accents dropped ("Résumé" is found by "resume"). A word is a run of letters
// and digits; "Q3-report_final.PDF" has the words q3, report, final, pdf.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace penncloud::drive {

// Words longer than this many bytes are cut (at a character boundary) when indexed and
// when searched for, so both sides agree.
inline constexpr size_t kMaxWordBytes = 64;
// A name contributes at most this many distinct words to the index.
inline constexpr size_t kMaxWordsPerName = 16;

// The distinct folded words of `text` (valid UTF-8), in order of first appearance, at
// most `max_words` of them.
std::vector<std::string> FoldedWords(std::string_view text, size_t max_words = kMaxWordsPerName);

}  // namespace penncloud::drive
