#include "mail/header_fields.h"

#include "mail/text.h"

namespace penncloud::mail {

HeaderSection SplitHeader(std::string_view message) {
  HeaderSection out;
  size_t pos = 0;
  size_t field_start = std::string_view::npos;
  auto close_field = [&](size_t end) {
    if (field_start != std::string_view::npos) {
      out.fields.push_back(message.substr(field_start, end - field_start));
    }
    field_start = std::string_view::npos;
  };
  while (pos < message.size()) {
    size_t eol = message.find("\r\n", pos);
    size_t line_end = eol == std::string_view::npos ? message.size() : eol;
    size_t next = eol == std::string_view::npos ? message.size() : eol + 2;
    if (line_end == pos) {  // the empty line: the body follows
      close_field(pos >= 2 ? pos - 2 : pos);
      out.body_offset = next;
      return out;
    }
    bool continuation = message[pos] == ' ' || message[pos] == '\t';
    if (!continuation) {
      close_field(pos >= 2 ? pos - 2 : pos);
      field_start = pos;
    } else if (field_start == std::string_view::npos) {
      field_start = pos;  // a stray continuation at the top stays a field of its own
    }
    pos = next;
  }
  close_field(message.size() >= 2 && message.ends_with("\r\n") ? message.size() - 2
                                                               : message.size());
  out.body_offset = message.size();
  return out;
}

std::string_view FieldName(std::string_view field) {
  size_t colon = field.find(':');
  if (colon == std::string_view::npos) return {};
  return Trim(field.substr(0, colon));
}

std::string_view FieldValue(std::string_view field) {
  size_t colon = field.find(':');
  return colon == std::string_view::npos ? std::string_view() : field.substr(colon + 1);
}

}  // namespace penncloud::mail
