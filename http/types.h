// The request and response values that frontend handlers take and return. Plain structs,
// free of Beast, so handlers compile fast and are tested without sockets:
//
//   Request req = MakeRequest("GET", "/api/me");   // (see router_test.cc)
//   Response res = router.Dispatch(req);
//
// Bodies come in two kinds. Most routes get the whole request body in `Request::body`
// (bounded by the route's max_body). Routes registered with `stream_body` (file uploads,
// WebDAV PUT) get `Request::body_reader` instead and pull the body piece by piece, so a
// 1 GiB upload never sits in memory. Likewise a response either carries `body` or sets
// `stream`, a function the server calls for the next piece until it returns std::nullopt.
//
// Handlers run on the frontend's worker pool, never on an I/O thread, so they may block on
// the KVS. `body_reader->Read` and `stream` are called on worker threads too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::http {

// The largest header fields of a request the frontends and the coordinator read: their
// bytes as sent, from the line after the request line through the blank line
// (header_bytes.h); more is answered 431. The request line is held to the same size.
inline constexpr uint32_t kMaxHeaderBytes = 16 << 10;
// What the coordinator may add to a header it forwards (X-Request-Id, X-Forwarded-For,
// X-Forwarded-Proto): a frontend reads this much more, so a header the coordinator took is
// never refused behind it.
inline constexpr uint32_t kForwardedHeaderBytes = 1 << 10;
// The largest body of a request no route takes (it gets 404 or 405 after being read).
inline constexpr uint64_t kMaxUnroutedBodyBytes = 64 << 10;

// Header fields in arrival order; names compare case-insensitively.
class Headers {
 public:
  // The first value of `name`, or "" if absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  void Add(std::string name, std::string value);
  // Replaces every field named `name` with one.
  void Set(std::string name, std::string value);
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Pulls a streamed request body.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Between 1 and `max_bytes` bytes of the body, or "" once it is all read. An error means
  // the client went away or broke the protocol; the handler should give up.
  virtual absl::StatusOr<std::string> Read(size_t max_bytes) = 0;
  // Reads until `max_bytes` are gathered or the body ends ("" at the end).
  absl::StatusOr<std::string> ReadFull(size_t max_bytes);
};

struct Request {
  std::string method;                        // upper case, e.g. "GET", "PROPFIND"
  std::string target;                        // as sent: "/api/files?path=%2Fa"
  std::string path;                          // percent-decoded path without the query: "/api/files"
  std::map<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> params;  // "{name}" segments of the matched route
  Headers headers;
  std::string body;                        // whole body (routes without stream_body)
  BodyReader* body_reader = nullptr;       // set instead of body for stream_body routes
  std::optional<uint64_t> content_length;  // declared length, if any
  std::string remote;                      // peer address (the coordinator's, behind :8000)

  // The value of cookie `name`, or "".
  std::string Cookie(std::string_view name) const;
  // The query parameter, or `fallback`.
  std::string Query(const std::string& name, std::string fallback = "") const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // If set, the body is produced piece by piece: each call returns the next piece, or
  // std::nullopt at the end (an error cuts the connection, since the status is already
  // sent). Set `content_length` when known; otherwise the body is sent chunked.
  std::function<absl::StatusOr<std::optional<std::string>>()> stream;
  std::optional<uint64_t> content_length;
  // With `stream`: an empty piece means "nothing yet", and the server asks again after this
  // long (0: at once) without holding a worker meanwhile (Server-Sent Events).
  std::chrono::milliseconds stream_poll{0};
};

// Decodes %XX (and '+' as space when `plus_is_space`, as in query strings).
std::string PercentDecode(std::string_view text, bool plus_is_space);
std::string PercentEncode(std::string_view text);  // everything but unreserved characters

// Fills path and query from target.
void ParseTarget(Request& request);

}  // namespace penncloud::http
