#include "coordinator/upstream_response_parser.h"

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <cstring>

#include "coordinator/proxy_heads.h"

namespace penncloud::coordinator {

namespace http = boost::beast::http;

UpstreamResponseParser::UpstreamResponseParser(std::string& fields) : fields_(fields) {
  fields_.clear();
}

std::string_view UpstreamResponseParser::content_type() const {
  return std::string_view(fields_).substr(type_at_, type_size_);
}

void UpstreamResponseParser::on_field_impl(http::field name, string_view name_string,
                                           string_view value, error_code&) {
  if (name == http::field::content_length) content_length_.assign(value.data(), value.size());
  if (!ForwardedToClient(name, std::string_view(name_string.data(), name_string.size()))) return;
  fields_.append(name_string.data(), name_string.size());
  fields_.append(": ");
  if (name == http::field::content_type) {
    type_at_ = fields_.size();
    type_size_ = value.size();
  }
  fields_.append(value.data(), value.size());
  fields_.append("\r\n");
}

// As Beast's buffer_body takes a piece: as much as the lent buffer holds.
size_t UpstreamResponseParser::TakeBody(string_view body, error_code& ec) {
  if (body_.data == nullptr) {
    ec = http::error::need_buffer;
    return 0;
  }
  const size_t n = std::min(body.size(), body_.size);
  if (n > 0) std::memcpy(body_.data, body.data(), n);
  body_.data += n;
  body_.size -= n;
  if (n < body.size()) ec = http::error::need_buffer;
  return n;
}

}  // namespace penncloud::coordinator
