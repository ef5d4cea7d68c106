#include "stress_test/user_sim/http_session.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include "common/write_deadline.h"

namespace penncloud::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpSession::HttpSession(net::any_io_executor executor, std::vector<net::ip::tcp::endpoint> targets,
                         size_t first)
    : targets_(std::move(targets)), current_(first % targets_.size()), stream_(executor) {}

void HttpSession::Close() {
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

net::awaitable<HttpResult> HttpSession::Send(std::string_view method, std::string_view target,
                                             const std::string& body,
                                             std::chrono::milliseconds timeout) {
  HttpResult result;
  beast::error_code ec;
  auto token = [&ec] { return net::redirect_error(net::use_awaitable, ec); };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto fail = [&](std::string_view stage) {
    result.error = ec == beast::error::timeout ? std::string("timeout")
                                               : std::string(stage) + ": " + ec.message();
    Close();
    current_ = (current_ + 1) % targets_.size();
  };

  if (!connected_) {
    stream_.expires_at(deadline);
    co_await stream_.async_connect(targets_[current_], token());
    if (ec) {
      fail("connect");
      co_return result;
    }
    stream_.socket().set_option(net::ip::tcp::no_delay(true), ec);
    connected_ = true;
  }

  http::request<http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::user_agent, "penncloud-user-sim");
  req.keep_alive(true);
  // Nothing of this request is applied after we stop waiting for it: a timed-out upload
  // cannot land later over a newer one (the end-of-run check relies on it).
  req.set(write_deadline::kTimeoutHeader, std::to_string(timeout.count()));
  // Its own clock's word too: a request the network holds past our timeout (a cut-off
  // coordinator) is refused when it arrives, however late the coordinator stamps it.
  const auto wall_deadline =
      std::chrono::system_clock::now() + (deadline - std::chrono::steady_clock::now());
  req.set(write_deadline::kDeadlineHeader,
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                             wall_deadline.time_since_epoch())
                             .count()));
  if (!cookie_.empty()) req.set(http::field::cookie, "pc_session=" + cookie_);
  if (method != "GET" && method != "HEAD" && !csrf_.empty()) req.set("X-CSRF-Token", csrf_);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(http::field::content_type,
            method == "PUT" ? "application/octet-stream" : "application/json");
    req.body() = body;
    req.prepare_payload();
  }

  stream_.expires_at(deadline);
  co_await http::async_write(stream_, req, token());
  if (ec) {
    fail("write");
    co_return result;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  co_await http::async_read(stream_, buffer_, parser, token());
  if (ec) {
    fail("read");
    co_return result;
  }
  auto& res = parser.get();
  result.status = res.result_int();
  for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
    std::string_view v(it->value().data(), it->value().size());
    constexpr std::string_view kName = "pc_session=";
    if (v.substr(0, kName.size()) == kName) {
      v.remove_prefix(kName.size());
      result.session_cookie = std::string(v.substr(0, v.find(';')));
    }
  }
  result.body = std::move(res.body());
  if (!res.keep_alive()) Close();
  co_return result;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace penncloud::sim
