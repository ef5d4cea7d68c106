// The webmail search language (mail/search_query.h) and the word breaking under it
// (mail/search_tokenizer.h, ICU) on arbitrary queries: a query is either refused with a
// message or parsed within its limits, and every word is folded, bounded and free of the
// index's column separator.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/check.h"
#include "mail/search_query.h"
#include "mail/search_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace penncloud::mail;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::string& w : Words(text, 1000)) {
    FUZZ_CHECK(!w.empty() && w.size() <= kMaxWordBytes);
    FUZZ_CHECK(w.find('/') == std::string::npos);
  }
  auto query = ParseSearchQuery(text);
  if (!query.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(query.status()));
    FUZZ_CHECK(!query.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(size <= kMaxQueryBytes);
  FUZZ_CHECK(query->keys.size() <= kMaxQueryWords);
  for (const std::string& key : query->keys) {
    FUZZ_CHECK(key.size() > 2 && key[1] == ':' && key.find('/') == std::string::npos);
  }
  for (const SearchPhrase& p : query->phrases) FUZZ_CHECK(p.words.size() >= 2);
  if (query->before_micros && query->after_micros) {
    FUZZ_CHECK(*query->before_micros % 86'400'000'000LL == *query->after_micros % 86'400'000'000LL);
  }
  return 0;
}
