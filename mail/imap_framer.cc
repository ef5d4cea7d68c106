#include "mail/imap_framer.h"

#include <algorithm>
#include <string_view>

namespace penncloud::mail {

SessionOutput ImapFramer::Feed(std::string& in, bool tls_can_start) {
  SessionOutput out;
  size_t used = 0;  // bytes of `in` handed over
  while (true) {
    std::string_view rest = std::string_view(in).substr(used);
    if (size_t want = session_.LiteralWanted(); want > 0) {
      if (rest.empty()) break;
      size_t take = std::min(want, rest.size());
      out.text += session_.OnLiteral(rest.substr(0, take)).text;
      used += take;
      continue;
    }
    size_t end = rest.find('\n');
    if (end == std::string_view::npos) {
      if (rest.size() > max_line_bytes_ + 1) {
        discarding_ = true;
        used = in.size();
      }
      break;
    }
    std::string_view line = rest.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    SessionOutput reply;
    if (discarding_ || line.size() > max_line_bytes_) {
      discarding_ = false;
      reply = session_.OnLineTooLong();
    } else {
      reply = session_.OnLine(line);
    }
    used += end + 1;
    out.text += reply.text;
    if (reply.close) {
      out.close = true;
      break;
    }
    if (reply.start_tls && tls_can_start) {
      out.start_tls = true;
      used = in.size();
      break;
    }
  }
  in.erase(0, used);
  return out;
}

}  // namespace penncloud::mail
