// The size of a request's header fields as our limits count them, the same for every HTTP
// server of PennCloud (the frontends, the coordinator, the /metrics endpoints).
//
// Beast's own header_limit counts only the bytes it has not parsed yet: fields parsed in an
// earlier read are forgotten, so a header that arrives over several reads could add up past
// it. HeaderBudget keeps the running count instead and refuses the header as soon as it
// passes the limit, whether or not its end has arrived, and the same however its bytes
// were split into reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace penncloud::http {

// Every field as "Name: value\r\n", plus the blank line that ends them: for a header sent
// that way, exactly its bytes from the line after the request line through the blank line.
template <typename Fields>
size_t HeaderFieldBytes(const Fields& fields) {
  size_t bytes = 2;
  for (const auto& field : fields) bytes += field.name_string().size() + field.value().size() + 4;
  return bytes;
}

// The running count of one request's header fields against a limit: their bytes as sent,
// from the line after the request line through the blank line (for fields sent as
// "Name: value" CRLF, what HeaderFieldBytes counts; padding and folded lines count too).
// The request line is held to the same limit on its own. Use a fresh budget per request,
// and call BeforePut and AfterPut around every put() of its head.
class HeaderBudget {
 public:
  explicit HeaderBudget(uint32_t limit) : limit_(limit) {}

  // Sets the parser's header_limit so that Beast refuses `unparsed` (the bytes of the head
  // it holds and has not consumed) as soon as they could not fit: Beast counts a request
  // line it has not parsed yet (it waits for the whole head before parsing one that came
  // in pieces) with the fields. False if the request line alone passes the limit.
  template <typename Parser>
  bool BeforePut(Parser& parser, std::string_view unparsed) {
    if (!line_parsed_) {
      size_t end = unparsed.find("\r\n");
      if (end != std::string_view::npos) line_ = end + 2;
      if (line_ > limit_) return false;
    }
    parser.header_limit(static_cast<uint32_t>((line_parsed_ ? 0 : line_) + limit_ - fields_));
    return true;
  }

  // After a put() that consumed `used` bytes: false once the fields consumed so far (with
  // the blank line still to come, if the head is not done) pass the limit.
  template <typename Parser>
  bool AfterPut(const Parser& parser, size_t used) {
    if (!line_parsed_ && !parser.get().method_string().empty()) {
      line_parsed_ = true;
      used -= line_;
    }
    fields_ += used;
    return fields_ + (parser.is_header_done() ? 0 : 2) <= limit_;
  }

 private:
  uint32_t limit_;
  size_t line_ = 0;  // the request line with its CRLF, once its CRLF was seen
  bool line_parsed_ = false;
  size_t fields_ = 0;  // field bytes consumed by the parser
};

}  // namespace penncloud::http
