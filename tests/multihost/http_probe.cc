#include "tests/multihost/http_probe.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sstream>

namespace penncloud::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

ProbeReply HttpProbe(const std::string& host, int port, const std::string& method,
                     const std::string& target, const std::string& body,
                     std::chrono::milliseconds timeout) {
  net::io_context io;
  beast::tcp_stream stream(io);
  ProbeReply reply;
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return reply;
  // Asynchronous calls run to completion here, so the timeout covers every step.
  stream.expires_after(timeout);
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  stream.async_connect({address, static_cast<unsigned short>(port)}, [&](beast::error_code e) {
    if (e) return;
    http::async_write(stream, req, [&](beast::error_code e, size_t) {
      if (e) return;
      http::async_read(stream, buffer, res, [&](beast::error_code e, size_t) {
        if (e) return;
        reply.status = res.result_int();
        reply.body = res.body();
      });
    });
  });
  io.run();
  return reply;
}

double MetricSum(const std::string& host, int port, const std::string& family) {
  const ProbeReply r = HttpProbe(host, port, "GET", "/metrics");
  if (r.status != 200) return -1;
  double sum = 0;
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(family + "{") || line.starts_with(family + " ")) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

}  // namespace penncloud::testing
