// The head of a response the server sends, written by hand into a string the connection
// reuses. Beast's message type allocates a node per header field and its serializer hands
// the kernel one buffer per field; a page with its security headers cost more in those than
// in the rest of the answer. The framing is the server's, whatever the handler set: its own
// Content-Length, Transfer-Encoding and Connection fields are dropped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/types.h"

namespace penncloud::http {

struct ResponseFraming {
  unsigned version = 11;  // the client's HTTP version: 10 or 11
  bool keep_alive = true;
  uint64_t length = 0;         // Content-Length (a HEAD answer gives the length a GET would have)
  std::string_view date = {};  // the Date field's value (http_date.h); none when empty
};

// The reason phrase of `status`: the registered one, tus's for 460, else none (a status
// line may end after its code and a space; Beast would write "<unknown-status>").
std::string_view ReasonPhrase(int status);

// Writes the status line, `res`'s header fields and the framing fields into `out` (cleared
// first), through the blank line that ends the head.
void WriteResponseHead(const Response& res, const ResponseFraming& framing, std::string& out);

}  // namespace penncloud::http
