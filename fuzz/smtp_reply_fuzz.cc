// A remote SMTP server's replies as the relay reads them (mail/smtp_reply.h), on arbitrary
// byte streams cut at CRLF. Checked for every reply: a code of 0 or 200-599, text of
// printable ASCII and newlines only (it goes into bounces, logs, protobuf strings and web
// pages), never over the text limit, and every line of a multi-line reply under one code.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "mail/smtp_reply.h"

namespace {

using penncloud::mail::kMaxSmtpReplyTextBytes;
using penncloud::mail::SmtpReply;

void Check(const SmtpReply& reply) {
  FUZZ_CHECK(reply.code == 0 || (reply.code >= 200 && reply.code <= 599));
  FUZZ_CHECK(reply.text.size() <= kMaxSmtpReplyTextBytes);
  for (char c : reply.text) FUZZ_CHECK(c == '\n' || (c >= 0x20 && c < 0x7f));
  if (reply.code == 0) return;
  // Each line starts with the reply's code, until the text was cut.
  const std::string code = std::to_string(reply.code);
  size_t at = 0;
  while (at < reply.text.size()) {
    size_t end = reply.text.find('\n', at);
    if (end == std::string::npos) end = reply.text.size();
    const std::string_view line(reply.text.data() + at, end - at);
    FUZZ_CHECK(line.starts_with(code) || line.ends_with("...") || end == reply.text.size());
    at = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  penncloud::mail::SmtpReplyParser parser;
  while (!in.empty()) {
    const size_t end = in.find("\r\n");
    const std::string_view line = in.substr(0, end);
    in = end == std::string_view::npos ? std::string_view() : in.substr(end + 2);
    if (auto reply = parser.AddLine(line)) Check(*reply);
  }
  return 0;
}
