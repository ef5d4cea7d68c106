// Replies of a remote SMTP server (RFC 5321 4.2), as the relay reads them. Whoever runs a
// domain's mail exchanger writes these bytes, so a line, a reply and the text kept of it
// are bounded here, and the text is reduced to what may go into a bounce, a log line, a
// stored delivery timeline (a protobuf string) and a webmail page.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace penncloud::mail {

// RFC 5321 4.5.3.1.5 allows 512 octets per reply line, CRLF included; some servers send a
// little more. The relay reads at most this much of a line (CRLF included) before giving up.
inline constexpr size_t kMaxSmtpReplyLineBytes = 2048;
// Lines per reply: an EHLO answer lists a few dozen extensions at most.
inline constexpr int kMaxSmtpReplyLines = 100;
// Text kept of one reply; the rest is cut with "...".
inline constexpr size_t kMaxSmtpReplyTextBytes = 4096;

struct SmtpReply {
  int code = 0;      // 200-599, or 0: the server sent no well-formed reply (text says why)
  std::string text;  // every line, joined by '\n'; printable ASCII only
};

// Assembles one reply from its lines. Feed each line without its CRLF; a result comes back
// with the line that ends the reply (its code followed by a space, or the code alone), or
// with the first line that breaks the rules (code 0).
class SmtpReplyParser {
 public:
  std::optional<SmtpReply> AddLine(std::string_view line);

 private:
  SmtpReply reply_;
  int lines_ = 0;
};

}  // namespace penncloud::mail
