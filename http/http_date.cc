#include "http/http_date.h"

#include <cstdint>

#include "absl/time/clock.h"

namespace penncloud::http {

std::string FormatHttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

const std::string& HttpDateNow() {
  thread_local int64_t formatted_second = -1;
  thread_local std::string formatted;
  const absl::Time now = absl::Now();
  const int64_t second = absl::ToUnixSeconds(now);
  if (second != formatted_second) {
    formatted = FormatHttpDate(now);
    formatted_second = second;
  }
  return formatted;
}

}  // namespace penncloud::http
