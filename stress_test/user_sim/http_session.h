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

namespace penncloud::sim {

struct HttpResult {
  int status = 0;     // 0 when the exchange failed below HTTP
  std::string error;  // transport error ("timeout", "connection reset", ...), else empty
  std::string body;
  std::string session_cookie;  // the pc_session value if the response set one
};

class HttpSession {
 public:
  HttpSession(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint target);

  void set_session(std::string cookie, std::string csrf) {
    cookie_ = std::move(cookie);
    csrf_ = std::move(csrf);
  }
  const std::string& cookie() const { return cookie_; }
  const std::string& csrf() const { return csrf_; }

  // Sends one request on the kept-alive connection (connecting first when needed) and reads
  // the whole answer within `timeout`. State-changing methods carry X-CSRF-Token.
  boost::asio::awaitable<HttpResult> Send(std::string_view method, std::string_view target,
                                          const std::string& body,
                                          std::chrono::milliseconds timeout);

  void Close();

 private:
  boost::asio::ip::tcp::endpoint target_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  std::string cookie_;
  std::string csrf_;
};

// Percent-encodes a query value (paths with '/' and spaces).
std::string UrlEncode(std::string_view s);

}  // namespace penncloud::sim
