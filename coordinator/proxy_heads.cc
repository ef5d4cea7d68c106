#include "coordinator/proxy_heads.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include "absl/strings/str_cat.h"
#include "common/write_deadline.h"
#include "http/response_head.h"

namespace penncloud::coordinator {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

bool HopByHop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::expect:
    case http::field::content_length:
      return true;
    default:
      return false;
  }
}

std::string_view Std(beast::string_view s) { return {s.data(), s.size()}; }

bool IEquals(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

bool Forwarded(const http::fields::value_type& f) {
  if (f.name() != http::field::unknown && HopByHop(f.name())) return false;
  return !SetByProxy(Std(f.name_string()));
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name.data(), name.size());
  out.append(": ");
  out.append(value.data(), value.size());
  out.append("\r\n");
}

bool PlainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

bool UsableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!PlainChar(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string HostWithoutPort(std::string_view host) {
  size_t end = host.size();
  if (size_t colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    end = colon;
  }
  host = host.substr(0, end);
  for (char c : host) {
    if (!PlainChar(c) && c != '.' && c != '-' && c != '[' && c != ']' && c != ':') return "";
  }
  return std::string(host);
}

bool SetByProxy(std::string_view name) {
  return IEquals(name, "X-Request-Id") || IEquals(name, "X-Forwarded-For") ||
         IEquals(name, "X-Forwarded-Proto") || IEquals(name, write_deadline::kSentHeader);
}

bool IsEventStream(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return IEquals(type, "text/event-stream");
}

void WriteRequestHead(const http::request_header<>& in, const ForwardedBy& by, uint64_t body_size,
                      std::string& out) {
  out.clear();
  beast::string_view method = in.method_string(), target = in.target();
  out.append(method.data(), method.size());
  out.push_back(' ');
  out.append(target.data(), target.size());
  out.append(" HTTP/1.1\r\n");
  for (const auto& f : in) {
    if (Forwarded(f)) AppendField(out, Std(f.name_string()), Std(f.value()));
  }
  AppendField(out, "X-Request-Id", by.request_id);
  AppendField(out, "X-Forwarded-For", by.peer);
  AppendField(out, "X-Forwarded-Proto", by.tls ? "https" : "http");
  if (by.sent_ms > 0) absl::StrAppend(&out, write_deadline::kSentHeader, ": ", by.sent_ms, "\r\n");
  http::verb verb = in.method();
  if (body_size > 0 || verb == http::verb::options || verb == http::verb::put ||
      verb == http::verb::post) {
    absl::StrAppend(&out, "Content-Length: ", body_size, "\r\n");
  }
  out.append("\r\n");
}

void CopyRequestHead(const http::request_header<>& in, const ForwardedBy& by,
                     http::request_header<>& out) {
  out = {};
  out.method(in.method());
  if (in.method() == http::verb::unknown) out.method_string(in.method_string());
  out.target(in.target());
  out.version(11);
  for (const auto& f : in) {
    if (Forwarded(f)) out.insert(f.name_string(), f.value());
  }
  out.set("X-Request-Id", beast::string_view(by.request_id.data(), by.request_id.size()));
  out.set("X-Forwarded-For", beast::string_view(by.peer.data(), by.peer.size()));
  out.set("X-Forwarded-Proto", by.tls ? "https" : "http");
  if (by.sent_ms > 0) out.set(write_deadline::kSentHeader, std::to_string(by.sent_ms));
}

void WriteResponseHead(const http::response_header<>& in, const ResponseFraming& framing,
                       std::string& out) {
  out.clear();
  out.append(framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  const unsigned status = in.result_int();
  absl::StrAppend(&out, status, " ");
  out.append(penncloud::http::ReasonPhrase(static_cast<int>(status)));
  out.append("\r\n");
  for (const auto& f : in) {
    if (f.name() != http::field::unknown && HopByHop(f.name())) continue;
    if (beast::iequals(f.name_string(), "X-Request-Id") ||
        f.name() == http::field::strict_transport_security) {
      continue;
    }
    AppendField(out, Std(f.name_string()), Std(f.value()));
  }
  AppendField(out, "X-Request-Id", framing.request_id);
  if (!framing.hsts.empty()) AppendField(out, "Strict-Transport-Security", framing.hsts);
  if (framing.no_body) {
    if (auto len = in.find(http::field::content_length); len != in.end()) {
      AppendField(out, "Content-Length", Std(len->value()));
    }
  } else if (framing.length) {
    absl::StrAppend(&out, "Content-Length: ", *framing.length, "\r\n");
  } else if (framing.chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  if (framing.version == 11 && !framing.keep_alive) out.append("Connection: close\r\n");
  if (framing.version == 10 && framing.keep_alive) out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
}

}  // namespace penncloud::coordinator
