#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace penncloud::log {
namespace {

std::string g_node = "-";
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
thread_local std::string t_request_id;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarn:
      return "WARN";
    case Level::kError:
      return "ERROR";
  }
  return "?";
}

bool NeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
  }
  return false;
}

void AppendValue(std::string& out, std::string_view value) {
  if (!NeedsQuotes(value)) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

void SetNode(std::string name) { g_node = std::move(name); }
void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }
bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }
void SetRequestId(std::string id) { t_request_id = std::move(id); }
const std::string& RequestId() { return t_request_id; }

Line::Line(Level level, std::string_view event) {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()) %
                std::chrono::seconds(1);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char stamp[40];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06ldZ ", static_cast<long>(micros.count()));
  text_.append(stamp).append(frac).append(LevelName(level));
  Field("node", g_node);
  Field("event", std::string(event));
  if (!t_request_id.empty()) Field("req", t_request_id);
}

void Line::Field(std::string_view key, const std::string& value) {
  text_.push_back(' ');
  text_.append(key);
  text_.push_back('=');
  AppendValue(text_, value);
}

Line::~Line() {
  text_.push_back('\n');
  // One write(2) per line keeps lines from different threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, text_.data(), text_.size());
  (void)ignored;
}

}  // namespace penncloud::log
