#include "tests/web/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/match.h"

namespace penncloud::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class HttpClient::Conn {
 public:
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;
};

std::string HttpResponse::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

std::vector<std::string> HttpResponse::Headers(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) out.push_back(v);
  }
  return out;
}

HttpClient::HttpClient(int port, int timeout_ms)
    : port_(port), timeout_ms_(timeout_ms), conn_(std::make_unique<Conn>()) {}
HttpClient::~HttpClient() = default;

absl::StatusOr<HttpResponse> HttpClient::Send(const std::string& method, const std::string& target,
                                              const std::string& body,
                                              const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (use_jar && !jar_.empty() && headers.find("Cookie") == headers.end()) {
    std::string cookie;
    for (const auto& [k, v] : jar_) {
      if (!cookie.empty()) cookie += "; ";
      cookie += k + "=" + v;
    }
    req.set(http::field::cookie, cookie);
  }
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
  req.keep_alive(true);

  // One retry on a fresh connection if a kept-alive one turns out closed.
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    bool reused = conn_->open;
    if (!conn_->open) {
      conn_->stream.expires_after(std::chrono::milliseconds(timeout_ms_));
      conn_->stream.connect(
          tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)), ec);
      if (ec) return absl::UnavailableError("connect: " + ec.message());
      conn_->open = true;
      conn_->buffer.clear();
    }
    conn_->stream.expires_after(std::chrono::milliseconds(timeout_ms_));
    http::write(conn_->stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (method == "HEAD") parser.skip(true);
    if (!ec) http::read(conn_->stream, conn_->buffer, parser, ec);
    if (ec) {
      conn_->stream.socket().close(ec);
      conn_->open = false;
      if (reused) {
        ++stale_retries;
        continue;
      }
      return absl::UnavailableError("exchange: " + ec.message());
    }
    auto& res = parser.get();
    HttpResponse out;
    out.status = res.result_int();
    for (const auto& f : res) {
      out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) {
      beast::error_code ignored;
      conn_->stream.socket().close(ignored);
      conn_->open = false;
    }
    for (const std::string& sc : out.Headers("Set-Cookie")) {
      size_t eq = sc.find('='), semi = sc.find(';');
      std::string name = sc.substr(0, eq);
      std::string value = sc.substr(eq + 1, semi == std::string::npos ? semi : semi - eq - 1);
      if (absl::StrContains(sc, "Max-Age=0") || value.empty()) {
        jar_.erase(name);
      } else {
        jar_[name] = value;
      }
    }
    return out;
  }
  return absl::UnavailableError("connection closed twice");
}

}  // namespace penncloud::testing
