// The header section of an RFC 5322 message as raw fields: what DKIM hashes and what the
// Authentication-Results check removes, byte for byte (GMime would re-fold them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace penncloud::mail {

struct HeaderSection {
  // Each field with its folded continuation lines, without the CRLF that ends it.
  std::vector<std::string_view> fields;
  size_t body_offset = 0;  // where the body starts (after the empty line), or the size
};

// Splits a message with CRLF line ends. A message with no empty line is all header.
HeaderSection SplitHeader(std::string_view message);

// "Subject" of "Subject: hi" (without the spaces some senders put before the colon); ""
// if the field has no colon.
std::string_view FieldName(std::string_view field);
// What follows the colon.
std::string_view FieldValue(std::string_view field);

}  // namespace penncloud::mail
