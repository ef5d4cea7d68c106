// Cuts fuzzer bytes into protocol lines the way mail/line_server.cc does: lines end at LF, a
// CR before the LF is dropped, and a line longer than the protocol's limit reaches the
// session as OnLineTooLong instead of its text.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace penncloud::fuzz {

// Calls `on_line(line)` or `on_too_long()` per line; returns early when either returns false
// (the session closed the connection).
inline void ForEachLine(std::string_view in, size_t max_line,
                        const std::function<bool(std::string_view)>& on_line,
                        const std::function<bool()>& on_too_long) {
  while (!in.empty()) {
    size_t end = in.find('\n');
    std::string_view line = in.substr(0, end);
    in = end == std::string_view::npos ? std::string_view() : in.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool go_on = line.size() > max_line ? on_too_long() : on_line(line);
    if (!go_on) return;
  }
}

// Every reply is whole lines, each ending in CRLF, with no CR or LF inside a line.
inline bool WellFormedReply(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) return false;
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) return false;
  }
  return text.empty() || text.ends_with("\r\n");
}

}  // namespace penncloud::fuzz
