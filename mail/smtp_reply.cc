#include "mail/smtp_reply.h"

#include "absl/strings/ascii.h"

namespace penncloud::mail {
namespace {

// `line` with every byte outside printable ASCII (controls, 8-bit) shown as '?'.
void AppendPrintable(std::string_view line, std::string* out) {
  for (char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    out->push_back(byte >= 0x20 && byte < 0x7f ? c : '?');
  }
}

SmtpReply Malformed(std::string_view why) { return SmtpReply{0, std::string(why)}; }

}  // namespace

std::optional<SmtpReply> SmtpReplyParser::AddLine(std::string_view line) {
  if (line.size() > kMaxSmtpReplyLineBytes) return Malformed("reply line too long");
  if (line.size() < 3 || !absl::ascii_isdigit(line[0]) || !absl::ascii_isdigit(line[1]) ||
      !absl::ascii_isdigit(line[2])) {
    return Malformed("malformed reply");
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (code < 200 || code > 599) return Malformed("malformed reply");
  // Every line of a reply carries its code (4.2.1); a different one is another reply.
  if (lines_ > 0 && code != reply_.code) return Malformed("malformed reply");
  const bool more = line.size() > 3 && line[3] == '-';
  if (line.size() > 3 && !more && line[3] != ' ') return Malformed("malformed reply");
  if (++lines_ > kMaxSmtpReplyLines) return Malformed("reply too long");
  reply_.code = code;
  if (reply_.text.size() < kMaxSmtpReplyTextBytes) {
    if (!reply_.text.empty()) reply_.text.push_back('\n');
    AppendPrintable(line, &reply_.text);
    if (reply_.text.size() > kMaxSmtpReplyTextBytes) {
      reply_.text.resize(kMaxSmtpReplyTextBytes - 3);
      reply_.text += "...";
    }
  }
  if (more) return std::nullopt;
  SmtpReply done = std::move(reply_);
  reply_ = SmtpReply{};
  lines_ = 0;
  return done;
}

}  // namespace penncloud::mail
