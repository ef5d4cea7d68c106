// The values of tus 1.0 request headers (Upload-Length, Upload-Offset, Upload-Metadata,
// Upload-Checksum), parsed with limits. They come straight from clients, so every parser answers
// kInvalidArgument with a message a client can act on, never reads past its input and never
// allocates more than the header's own size.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace penncloud::drive {

inline constexpr size_t kMaxTusMetadataBytes = 8 << 10;
inline constexpr size_t kMaxTusMetadataKeys = 16;
inline constexpr size_t kMaxTusMetadataKeyBytes = 64;

// A decimal count of bytes: 1-20 ASCII digits (no sign, no spaces), at most `max`.
// `name` is the header's, for the message.
absl::StatusOr<uint64_t> ParseTusNumber(std::string_view value, uint64_t max,
                                        std::string_view name);

// Upload-Metadata: comma-separated pairs "key base64(value)"; a key alone has an empty value.
// Keys are 1-64 printable ASCII characters other than space and comma, each at most once,
// at most 16 of them, the whole header at most 8 KiB; values are standard base64 (padding
// optional). Returns key -> decoded value.
absl::StatusOr<std::map<std::string, std::string>> ParseTusMetadata(std::string_view value);

// What Tus-Checksum-Algorithm offers, as tus (after the IANA hash names) spells them.
inline constexpr char kTusChecksumAlgorithms[] = "sha1,sha256";

struct TusChecksum {
  enum class Algorithm { kSha1, kSha256 };
  Algorithm algorithm = Algorithm::kSha1;
  std::string digest;  // raw bytes, exactly the algorithm's size
};

// Upload-Checksum: "<algorithm> <digest in standard base64>" (padding optional), one of the
// algorithms above.
absl::StatusOr<TusChecksum> ParseTusChecksum(std::string_view value);

}  // namespace penncloud::drive
