// The config file parser (common/config.h) on arbitrary text: TOML syntax, table and key
// checks, and flag values. Whatever the bytes, ApplyText returns a status; it never
// crashes, and an error names the source the way operators read it ("<file>:<line>: ...").
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "common/config.h"
#include "fuzz/check.h"

// Flags of every kind a binary's table may set, so values reach absl's flag parsers.
ABSL_FLAG(std::string, fuzz_text, "", "a string flag");
ABSL_FLAG(int32_t, fuzz_count, 0, "an integer flag");
ABSL_FLAG(bool, fuzz_switch, false, "a boolean flag");
ABSL_FLAG(double, fuzz_ratio, 0.0, "a floating-point flag");
ABSL_FLAG(std::vector<std::string>, fuzz_list, {}, "a list flag");

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::Status s = penncloud::config::ApplyText(text, "fuzz.conf", "frontend");
  FUZZ_CHECK(s.ok() || absl::StartsWith(s.message(), "fuzz.conf:"));
  return 0;
}
