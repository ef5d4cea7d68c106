// The header blocks the proxy writes: a request's head for the frontend and a response's
// head for the client. They are written by hand into strings a session reuses: Beast's
// fields allocate a node per header and its serializer hands the kernel several buffers
// per header, which cost more than the rest of the relay.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace penncloud::coordinator {

// A client's own X-Request-Id is kept if it is short and plain (it goes into every log
// line of the request); anything else is replaced by a fresh one.
bool UsableRequestId(std::string_view id);

// "example.org:8000" -> "example.org", "[::1]:8000" -> "[::1]"; "" unless the name is made
// of the characters a host name or address may hold (it goes into a Location header).
std::string HostWithoutPort(std::string_view host);

// Server-Sent Events: such a response is relayed without the upstream read timeout.
bool IsEventStream(std::string_view content_type);

// What the proxy adds to every request it forwards; a client's own copies of these
// headers are dropped, since the frontend believes them.
struct ForwardedBy {
  std::string_view request_id = {};
  std::string_view peer = {};  // the client's address
  bool tls = false;            // the client's connection is HTTPS
  // This host's wall clock (ms since the epoch) when the proxy held the request, as
  // write_deadline::kSentHeader: the frontend takes the time the request then spent in
  // transit off its write budget. 0: not sent.
  int64_t sent_ms = 0;
};

// X-Request-Id, X-Forwarded-For, X-Forwarded-Proto, X-PennCloud-Sent-Ms: only the proxy may
// set them.
bool SetByProxy(std::string_view name);

// The head of a request whose body (`body_size` bytes) the proxy holds, with
// Content-Length as Beast's prepare_payload would set it.
void WriteRequestHead(const boost::beast::http::request_header<>& in, const ForwardedBy& by,
                      uint64_t body_size, std::string& out);

// The head of a streamed upload as Beast fields, without framing (its serializer frames).
void CopyRequestHead(const boost::beast::http::request_header<>& in, const ForwardedBy& by,
                     boost::beast::http::request_header<>& out);

struct ResponseFraming {
  unsigned version = 11;                // the client's HTTP version
  bool no_body = false;                 // HEAD, 1xx, 204, 304
  std::optional<uint64_t> length = {};  // the body's length, when known
  bool chunked = false;                 // the body goes chunked to the client
  bool keep_alive = true;               // the client's connection stays open
  std::string_view request_id = {};
  std::string_view hsts = {};  // Strict-Transport-Security, or "" (plain HTTP)
};

void WriteResponseHead(const boost::beast::http::response_header<>& in,
                       const ResponseFraming& framing, std::string& out);

}  // namespace penncloud::coordinator
