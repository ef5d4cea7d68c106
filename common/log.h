// Structured, levelled logging: one line per event, key=value fields, the node's name on
// every line, so that lines from all tiers can be merged and grepped by event or field.
//
//   PC_LOG(kInfo, "paxos.elected")("ballot", b)("slot", s);
//   => 2026-11-24T17:12:00.123456Z INFO node=kvs-g1-0 event=paxos.elected ballot=3.1 slot=10
//
// Values are written with operator<<; values containing spaces, quotes or '=' are quoted.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace penncloud::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Process-wide settings; call once from main before other threads start.
void SetNode(std::string name);
void SetLevel(Level level);
bool Enabled(Level level);

// Carries a request id through a thread's work so every line logged while serving a
// request names it (the coordinator mints ids; frontends and the KVS client pass them on).
void SetRequestId(std::string id);
const std::string& RequestId();

// One log line, written (atomically, with a trailing newline) when it goes out of scope.
class Line {
 public:
  Line(Level level, std::string_view event);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  template <typename T>
  Line& operator()(std::string_view key, const T& value) {
    std::ostringstream v;
    v << value;
    Field(key, v.str());
    return *this;
  }

 private:
  void Field(std::string_view key, const std::string& value);
  std::string text_;
};

}  // namespace penncloud::log

#define PC_LOG(level, event)                                        \
  if (!::penncloud::log::Enabled(::penncloud::log::Level::level)) { \
  } else                                                            \
    ::penncloud::log::Line(::penncloud::log::Level::level, event)
