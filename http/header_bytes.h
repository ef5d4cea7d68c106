// The size of a request's header fields as our limits count them, the same for the
// frontends and the coordinator. Beast's own header_limit counts only the bytes it has not
// yet parsed, so fields that arrive over several reads could add up past it; this counts
// them all once the header is read.
#pragma once

#include <cstddef>

namespace penncloud::http {

// Every field as "Name: value\r\n", plus the blank line that ends them: for a header sent
// that way, exactly its bytes from the line after the request line through the blank line.
template <typename Fields>
size_t HeaderFieldBytes(const Fields& fields) {
  size_t bytes = 2;
  for (const auto& field : fields) bytes += field.name_string().size() + field.value().size() + 4;
  return bytes;
}

}  // namespace penncloud::http
