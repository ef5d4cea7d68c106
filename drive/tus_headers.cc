#include "drive/tus_headers.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace penncloud::drive {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Standard alphabet with at most two '=' at the very end. absl's decoder alone also takes
// whitespace and other alphabets; the spec (and our fuzz target) want one spelling.
bool WellFormedBase64(std::string_view s) {
  size_t data = s.size();
  while (data > 0 && s[data - 1] == '=') --data;
  if (s.size() - data > 2) return false;
  for (size_t i = 0; i < data; ++i) {
    if (!IsBase64Char(s[i])) return false;
  }
  if (data % 4 == 1) return false;  // no whole byte fits in one character
  return s.size() == data || s.size() % 4 == 0;
}

}  // namespace

absl::StatusOr<uint64_t> ParseTusNumber(std::string_view value, uint64_t max,
                                        std::string_view name) {
  if (value.empty() || value.size() > 20) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(name), " must be a decimal number of bytes"));
  }
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(name), " must be a decimal number of bytes"));
    }
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(name), " is too large"));
    }
    n = n * 10 + digit;
  }
  if (n > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(name), " is over the limit of ", max));
  }
  return n;
}

absl::StatusOr<std::map<std::string, std::string>> ParseTusMetadata(std::string_view value) {
  if (value.size() > kMaxTusMetadataBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Upload-Metadata is longer than ", kMaxTusMetadataBytes, " bytes"));
  }
  std::map<std::string, std::string> out;
  if (TrimSpaces(value).empty()) return out;
  while (true) {
    size_t comma = value.find(',');
    std::string_view pair = TrimSpaces(value.substr(0, comma));
    size_t space = pair.find(' ');
    std::string_view key = pair.substr(0, space);
    std::string_view encoded =
        space == std::string_view::npos ? std::string_view() : TrimSpaces(pair.substr(space + 1));
    if (key.empty() || key.size() > kMaxTusMetadataKeyBytes) {
      return absl::InvalidArgumentError("Upload-Metadata has an empty or overlong key");
    }
    for (char c : key) {
      if (c <= 0x20 || c >= 0x7F || c == ',') {
        return absl::InvalidArgumentError("Upload-Metadata keys are printable ASCII");
      }
    }
    if (!WellFormedBase64(encoded)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Upload-Metadata value of \"", std::string(key), "\" is not base64"));
    }
    std::string decoded;
    if (!absl::Base64Unescape(absl::string_view(encoded.data(), encoded.size()), &decoded)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Upload-Metadata value of \"", std::string(key), "\" is not base64"));
    }
    if (out.size() == kMaxTusMetadataKeys) {
      return absl::InvalidArgumentError(
          absl::StrCat("Upload-Metadata has more than ", kMaxTusMetadataKeys, " keys"));
    }
    if (!out.emplace(std::string(key), std::move(decoded)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("Upload-Metadata names \"", std::string(key), "\" twice"));
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

absl::StatusOr<TusChecksum> ParseTusChecksum(std::string_view value) {
  size_t space = value.find(' ');
  if (space == std::string_view::npos) {
    return absl::InvalidArgumentError("Upload-Checksum must be \"<algorithm> <base64 digest>\"");
  }
  std::string_view name = value.substr(0, space);
  std::string_view encoded = value.substr(space + 1);
  TusChecksum checksum;
  size_t digest_bytes = 0;
  if (name == "sha1") {
    checksum.algorithm = TusChecksum::Algorithm::kSha1;
    digest_bytes = 20;
  } else if (name == "sha256") {
    checksum.algorithm = TusChecksum::Algorithm::kSha256;
    digest_bytes = 32;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("Upload-Checksum algorithm must be one of ", kTusChecksumAlgorithms));
  }
  // Checked before decoding, so a long value is refused without allocating for it.
  if (encoded.size() > (digest_bytes + 2) / 3 * 4 || !WellFormedBase64(encoded) ||
      !absl::Base64Unescape(absl::string_view(encoded.data(), encoded.size()), &checksum.digest) ||
      checksum.digest.size() != digest_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Upload-Checksum is not a base64 ", std::string(name), " digest"));
  }
  return checksum;
}

}  // namespace penncloud::drive
