// One simulated browser tab's HTTP/1.1 connection to :8000: keep-alive, the session cookie
// and the CSRF token, exactly as web/static/api.js sends them. Coroutine-based, so one
// thread drives thousands of sessions without a thread per user.
#pragma once

// clang-format off
#include <utility>  // first: Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace penncloud::sim {

struct HttpResult {
  int status = 0;     // 0 when the exchange failed below HTTP
  std::string error;  // transport error ("timeout", "connection reset", ...), else empty
  std::string body;
  std::string session_cookie;  // the pc_session value if the response set one
};

class HttpSession {
 public:
  // Talks to targets[first % size] until an exchange fails below HTTP, then to the next.
  HttpSession(boost::asio::any_io_executor executor,
              std::vector<boost::asio::ip::tcp::endpoint> targets, size_t first = 0);

  void set_session(std::string cookie, std::string csrf) {
    cookie_ = std::move(cookie);
    csrf_ = std::move(csrf);
  }
  const std::string& cookie() const { return cookie_; }
  const std::string& csrf() const { return csrf_; }

  // Sends one request on the kept-alive connection (connecting first when needed) and reads
  // the whole answer within `timeout`. State-changing methods carry X-CSRF-Token. A failure
  // below HTTP closes the connection and moves the session to the next target.
  boost::asio::awaitable<HttpResult> Send(std::string_view method, std::string_view target,
                                          const std::string& body,
                                          std::chrono::milliseconds timeout);

  void Close();

 private:
  std::vector<boost::asio::ip::tcp::endpoint> targets_;
  size_t current_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  std::string cookie_;
  std::string csrf_;
};

// Percent-encodes a query value (paths with '/' and spaces).
std::string UrlEncode(std::string_view s);

}  // namespace penncloud::sim
