// A request head as every HTTP server of PennCloud reads it (http/head_reader.h: ParseHead
// over HeaderBudget), on arbitrary bytes split into reads of arbitrary sizes. The first byte
// picks the size of the reads. Invariants: the bytes held unparsed stay bounded by the
// limit; a head read has fields within the limit; a head is read whole or in pieces alike,
// with the same fields.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "fuzz/check.h"
#include "http/head_reader.h"

namespace {

using penncloud::http::HeadOutcome;
namespace bhttp = boost::beast::http;

// Small, so inputs of a few hundred bytes reach it.
constexpr uint32_t kLimit = 200;

struct Read {
  std::optional<HeadOutcome> outcome;
  size_t fields = 0;
  std::string target;
};

Read Feed(std::string_view head, size_t piece) {
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.body_limit(UINT64_MAX);
  penncloud::http::HeaderBudget budget(kLimit);
  boost::beast::flat_buffer buffer;
  Read read;
  for (size_t fed = 0; fed < head.size() && !read.outcome;) {
    size_t n = std::min(piece, head.size() - fed);
    std::memcpy(buffer.prepare(n).data(), head.data() + fed, n);
    buffer.commit(n);
    fed += n;
    read.outcome = penncloud::http::ParseHead(parser, budget, buffer);
    // Unparsed: at most a request line and the fields, each within the limit, and a read.
    if (!read.outcome) FUZZ_CHECK(buffer.size() <= 2 * kLimit + piece);
  }
  if (read.outcome == HeadOutcome::kRead) {
    // The fields as sent, from the line after the request line through the blank line.
    size_t line_end = head.find("\r\n"), end = head.find("\r\n\r\n");
    FUZZ_CHECK(line_end != std::string_view::npos && end != std::string_view::npos);
    FUZZ_CHECK(line_end + 2 <= kLimit && end + 4 - (line_end + 2) <= kLimit);
    read.fields = std::distance(parser.get().begin(), parser.get().end());
    read.target = std::string(parser.get().target());
  }
  return read;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 16;
  std::string_view head(reinterpret_cast<const char*>(data) + 1, size - 1);
  Read whole = Feed(head, head.size() + 1);
  Read pieces = Feed(head, piece);
  FUZZ_CHECK((whole.outcome == HeadOutcome::kRead) == (pieces.outcome == HeadOutcome::kRead));
  if (whole.outcome == HeadOutcome::kRead) {
    FUZZ_CHECK(whole.fields == pieces.fields && whole.target == pieces.target);
  }
  return 0;
}
