// The size of a request's header fields as our limits count them, the same for every HTTP
// server of PennCloud (the frontends, the coordinator, the /metrics endpoints).
//
// Beast's own header_limit counts only the bytes it has not parsed yet: fields parsed in an
// earlier read are forgotten, so a header that arrives over several reads could add up past
// it. HeaderBudget keeps the running count instead and refuses the header as soon as it
// passes the limit, whether or not its end has arrived.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <cstdint>
#include <iterator>
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

// The running count of one request's header fields (HeaderFieldBytes' rule) against a
// limit; the request line is held to the same limit on its own. Use a fresh budget per
// request, and call Update before and after every put() of its head.
class HeaderBudget {
 public:
  explicit HeaderBudget(uint32_t limit) : limit_(limit) {}

  // Counts the fields parsed since the last call (each once, so a header trickled in many
  // reads costs no more than one sent whole). False once the fields so far and the blank
  // line still to come pass the limit. Otherwise sets the parser's header_limit so that
  // Beast refuses `unparsed` (the bytes of the head it has not consumed, about to be put
  // or just put) as soon as they could not fit either. Beast waits for the whole head
  // before parsing a request line that came in pieces, and counts that line too, so the
  // limit given to it includes such a line.
  template <typename Parser>
  bool Update(Parser& parser, std::string_view unparsed) {
    const auto& message = parser.get();
    auto it = counted_ == 0 ? message.begin() : std::next(last_);
    for (; it != message.end(); ++it) {
      bytes_ += it->name_string().size() + it->value().size() + 4;
      last_ = it;
      ++counted_;
    }
    if (bytes_ + 2 > limit_) return false;
    size_t line = 0;  // of a request line still unparsed, with its CRLF
    if (message.method_string().empty()) {
      size_t end = unparsed.find("\r\n");
      if (end != std::string_view::npos) line = end + 2;
      if (line > limit_) return false;
    }
    parser.header_limit(static_cast<uint32_t>(line + limit_ - bytes_));
    return true;
  }

 private:
  uint32_t limit_;
  size_t bytes_ = 0;    // of the fields counted, without the blank line
  size_t counted_ = 0;  // fields counted so far
  // The last field counted: Beast's fields keep insertion order, and their iterators stay
  // valid as fields are added.
  boost::beast::http::fields::const_iterator last_;
};

}  // namespace penncloud::http
