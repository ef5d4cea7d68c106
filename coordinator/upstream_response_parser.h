// A frontend's answer as the proxy reads it: Beast's parser, with its validation and its
// body framing (lengths, chunks, the end), but not Beast's fields. The proxy only passes
// the fields on, so each one it forwards is appended to one string as it is parsed, in the
// form the client gets it; Beast's fields allocate a node per field and index them, which
// with a page's security headers cost more than the rest of the relay. The body goes piece
// by piece into a buffer the caller lends, as with Beast's buffer_body.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace penncloud::coordinator {

class UpstreamResponseParser final : public boost::beast::http::basic_parser<false> {
 public:
  // Where the next bytes of the body go; both advance as they arrive. A parser that finds
  // no room stops with http::error::need_buffer.
  struct BodyBuffer {
    char* data = nullptr;
    size_t size = 0;
  };

  // `fields` receives the fields that go on to the client (cleared first); a session
  // lends the same string to each answer, so it is rarely reallocated.
  explicit UpstreamResponseParser(std::string& fields);

  BodyBuffer& body() { return body_; }
  int status() const { return status_; }
  // The fields for the client, "Name: value\r\n" each as received, in order, without those
  // ForwardedToClient (proxy_heads.h) keeps back.
  std::string_view client_fields() const { return fields_; }
  std::string_view content_type() const;
  // The Content-Length field as the frontend sent it, or "" (said again to the client
  // when the answer has no body, as for HEAD).
  std::string_view content_length_field() const { return content_length_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override { status_ = code; }
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  size_t on_body_impl(string_view body, error_code& ec) override { return TakeBody(body, ec); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
    return TakeBody(body, ec);
  }
  void on_finish_impl(error_code&) override {}

  size_t TakeBody(string_view body, error_code& ec);

  std::string& fields_;
  int status_ = 0;
  size_t type_at_ = 0;  // the Content-Type value within fields_
  size_t type_size_ = 0;
  std::string content_length_;
  BodyBuffer body_;
};

}  // namespace penncloud::coordinator
