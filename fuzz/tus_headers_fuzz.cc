// The tus header parsers (drive/tus_headers.h) on arbitrary bytes. The first byte picks
// the parser. Upload-Metadata: a parsed header is within the limits, and encoding what came
// out parses back to the same map. Numbers: a parsed value is within its bound and is the
// input's digits.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "drive/tus_headers.h"
#include "fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace penncloud::drive;
  if (size == 0) return 0;
  std::string_view header(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto metadata = ParseTusMetadata(header);
    if (!metadata.ok()) return 0;
    FUZZ_CHECK(header.size() <= kMaxTusMetadataBytes);
    FUZZ_CHECK(metadata->size() <= kMaxTusMetadataKeys);
    std::string again;
    for (const auto& [key, value] : *metadata) {
      FUZZ_CHECK(!key.empty() && key.size() <= kMaxTusMetadataKeyBytes);
      FUZZ_CHECK(value.size() <= header.size());
      if (!again.empty()) again += ",";
      again += key;
      if (!value.empty()) absl::StrAppend(&again, " ", absl::Base64Escape(value));
    }
    auto reparsed = ParseTusMetadata(again);
    FUZZ_CHECK(reparsed.ok() && *reparsed == *metadata);
    return 0;
  }
  const uint64_t max = data[0] < 128 ? UINT64_MAX : uint64_t{1} << 40;
  auto number = ParseTusNumber(header, max, "Upload-Length");
  if (!number.ok()) return 0;
  FUZZ_CHECK(*number <= max);
  std::string_view digits = header;
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  FUZZ_CHECK(digits == absl::StrCat(*number));
  return 0;
}
