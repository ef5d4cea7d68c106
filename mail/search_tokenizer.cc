#include "mail/search_tokenizer.h"

#include <algorithm>
#include <memory>

#include "mail/text.h"
#include "unicode/brkiter.h"
#include "unicode/locid.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"

namespace penncloud::mail {
namespace {

// Both are immutable once made; BreakIterator is not thread-safe, so each thread clones
// the prototype once.
const icu::Normalizer2* Folder() {
  static const icu::Normalizer2* folder = [] {
    UErrorCode status = U_ZERO_ERROR;
    return icu::Normalizer2::getNFKCCasefoldInstance(status);
  }();
  return folder;
}

icu::BreakIterator* ThreadWordBreaker() {
  thread_local std::unique_ptr<icu::BreakIterator> breaker = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> b(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    return U_FAILURE(status) ? nullptr : std::move(b);
  }();
  return breaker.get();
}

// ICU keeps "bob.smith@example.com" and "example.com" whole; their parts are words too, so
// "bob", "smith" and "example.com" find the address.
void AddWithParts(std::string word, size_t max_words, std::vector<std::string>* out) {
  const size_t at = word.find('@');
  const bool dotted = word.find('.') != std::string::npos;
  std::vector<std::string> parts;
  if (at != std::string::npos) {
    parts.push_back(word.substr(0, at));
    parts.push_back(word.substr(at + 1));
  }
  if (dotted || at != std::string::npos) {
    size_t start = 0;
    for (size_t i = 0; i <= word.size(); ++i) {
      if (i < word.size() && word[i] != '.' && word[i] != '@') continue;
      parts.push_back(word.substr(start, i - start));
      start = i + 1;
    }
  }
  out->push_back(std::move(word));
  for (std::string& part : parts) {
    if (out->size() >= max_words) return;
    if (!part.empty() && part != out->back()) out->push_back(std::move(part));
  }
}

// NFKC case folding maps an ASCII-only word to its lower case: no ASCII character has a
// compatibility decomposition, a case folding other than A-Z, or a combining mark to meet.
// Most words in mail are ASCII, and ICU's normalizer cost half the tokenizer's
// instructions on them.
bool FoldAscii(const char16_t* units, int32_t length, std::string* word) {
  word->resize(static_cast<size_t>(length));
  for (int32_t i = 0; i < length; ++i) {
    const char16_t c = units[i];
    if (c >= 0x80) return false;
    (*word)[static_cast<size_t>(i)] = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return true;
}

}  // namespace

std::vector<std::string> Words(std::string_view text, size_t max_words) {
  std::vector<std::string> out;
  icu::BreakIterator* breaker = ThreadWordBreaker();
  const icu::Normalizer2* folder = Folder();
  if (breaker == nullptr || folder == nullptr || max_words == 0) return out;
  const std::string clean = ScrubUtf8(text);
  icu::UnicodeString unicode = icu::UnicodeString::fromUTF8(clean);
  breaker->setText(unicode);
  int32_t start = breaker->first();
  for (int32_t end = breaker->next(); end != icu::BreakIterator::DONE;
       start = end, end = breaker->next()) {
    // Spans of spaces and punctuation have the status UBRK_WORD_NONE.
    if (breaker->getRuleStatus() == UBRK_WORD_NONE) continue;
    std::string word;
    if (!FoldAscii(unicode.getBuffer() + start, end - start, &word)) {
      UErrorCode status = U_ZERO_ERROR;
      icu::UnicodeString folded =
          folder->normalize(unicode.tempSubStringBetween(start, end), status);
      if (U_FAILURE(status)) continue;
      word.clear();
      folded.toUTF8String(word);
    }
    // A word never holds '/', the separator of the index's columns.
    if (word.empty() || word.size() > kMaxWordBytes || word.find('/') != std::string::npos) {
      continue;
    }
    AddWithParts(std::move(word), max_words, &out);
    if (out.size() >= max_words) break;
  }
  out.resize(std::min(out.size(), max_words));
  // The iterator keeps a pointer to `unicode`; leave it on an empty text.
  breaker->setText(icu::UnicodeString());
  return out;
}

}  // namespace penncloud::mail
