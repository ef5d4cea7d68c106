// The tus header parsers (drive/tus_headers.h) on arbitrary bytes. The first byte picks
// the parser (odd: a number; even: metadata, or a checksum when its bit 1 is set).
// Upload-Metadata: a parsed header is within the limits, and encoding what came out parses
// back to the same map. Numbers: a parsed value is within its bound and is the input's
// digits. Upload-Checksum: the digest is its algorithm's size, and encoding it again parses
// back to the same checksum.
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
  if (data[0] % 4 == 2) {
    auto checksum = ParseTusChecksum(header);
    if (!checksum.ok()) return 0;
    const bool sha1 = checksum->algorithm == TusChecksum::Algorithm::kSha1;
    FUZZ_CHECK(checksum->digest.size() == (sha1 ? 20u : 32u));
    auto reparsed = ParseTusChecksum(
        absl::StrCat(sha1 ? "sha1 " : "sha256 ", absl::Base64Escape(checksum->digest)));
    FUZZ_CHECK(reparsed.ok() && reparsed->algorithm == checksum->algorithm &&
               reparsed->digest == checksum->digest);
    return 0;
  }
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
