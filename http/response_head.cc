#include "http/response_head.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <string_view>

namespace penncloud::http {
namespace {

// Framing fields: the server writes its own.
bool Framing(std::string_view name) {
  const boost::beast::string_view n(name.data(), name.size());
  return boost::beast::iequals(n, "Content-Length") ||
         boost::beast::iequals(n, "Transfer-Encoding") || boost::beast::iequals(n, "Connection");
}

void AppendNumber(std::string& out, uint64_t n) {
  char digits[24];
  char* end = std::to_chars(digits, digits + sizeof(digits), n).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  if (status == 460) return "Checksum Mismatch";  // tus 1.0's checksum extension
  const auto known = boost::beast::http::int_to_status(static_cast<unsigned>(status));
  if (known == boost::beast::http::status::unknown) return {};
  auto reason = boost::beast::http::obsolete_reason(known);
  return {reason.data(), reason.size()};
}

void WriteResponseHead(const Response& res, const ResponseFraming& framing, std::string& out) {
  out.clear();
  out.append(framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  AppendNumber(out, static_cast<uint64_t>(res.status));
  out.push_back(' ');
  out.append(ReasonPhrase(res.status));
  out.append("\r\n");
  for (const auto& [name, value] : res.headers.fields()) {
    if (Framing(name)) continue;
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
  if (!framing.date.empty()) {
    out.append("Date: ");
    out.append(framing.date);
    out.append("\r\n");
  }
  out.append("Content-Length: ");
  AppendNumber(out, framing.length);
  out.append("\r\n");
  if (framing.version == 11 && !framing.keep_alive) out.append("Connection: close\r\n");
  if (framing.version == 10 && framing.keep_alive) out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
}

}  // namespace penncloud::http
