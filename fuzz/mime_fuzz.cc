// MIME parsing and our extraction (mail/mime.h) on arbitrary message sources: headers,
// encoded words, multipart nesting, transfer encodings, attachments and forwarded messages.
// ParseMessage promises never to fail on odd input; ToCrlf must leave no bare CR or LF; and
// what is extracted stays in proportion to the source.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "mail/mime.h"

namespace {

bool OnlyCrlf(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace penncloud::mail;
  std::string_view source(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(OnlyCrlf(ToCrlf(source)));
  ParsedMessage m = ParseMessage(source);

  // Whatever came out is what webmail shows: the body text and file names stay strings that
  // the JSON layer can carry (possibly after replacing invalid UTF-8), never a crash.
  size_t total = m.text.size() + m.html.size();
  for (const Attachment& a : m.attachments) total += a.data.size() + a.filename.size();
  // Decoding never inflates beyond what the source could carry (base64 and QP shrink; a
  // forwarded message is re-serialized with at most CRLF line ends and folding).
  FUZZ_CHECK(total <= 4 * size + 65536);
  return 0;
}
