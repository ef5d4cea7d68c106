#include "accounts/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "accounts/base32.h"
#include "accounts/tokens.h"

namespace penncloud::accounts {
namespace {

// Percent-encodes everything but unreserved characters (RFC 3986), for the URI's label.
std::string UriEscape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

}  // namespace

int64_t TotpStep(absl::Time t) {
  int64_t seconds = absl::ToUnixSeconds(t);
  // Floor division, so a clock before 1970 in a test still counts down, not toward zero.
  int64_t step = seconds / kTotpStepSeconds;
  if (seconds % kTotpStepSeconds < 0) --step;
  return step;
}

std::string HotpCode(std::string_view key, uint64_t counter, int digits) {
  unsigned char message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message, sizeof message, mac,
           &mac_len) == nullptr) {
    std::abort();  // only on allocation failure inside OpenSSL
  }
  // Dynamic truncation: four bytes at the offset the last nibble names, top bit cleared.
  int offset = mac[mac_len - 1] & 0x0f;
  uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                    (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                    (static_cast<uint32_t>(mac[offset + 2]) << 8) |
                    static_cast<uint32_t>(mac[offset + 3]);
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  return absl::StrFormat("%0*u", digits, binary % modulus);
}

std::optional<int64_t> MatchTotp(std::string_view key, std::string_view code, absl::Time now) {
  if (code.size() != kTotpDigits) return std::nullopt;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const int64_t current = TotpStep(now);
  std::optional<int64_t> matched;
  // Every step in the window is computed and compared in constant time, so the answer's
  // timing says nothing about which step (if any) matched.
  for (int64_t step = current - kTotpWindow; step <= current + kTotpWindow; ++step) {
    if (step < 0) continue;
    if (ConstantTimeEquals(HotpCode(key, static_cast<uint64_t>(step)), code)) matched = step;
  }
  return matched;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view key) {
  return absl::StrCat("otpauth://totp/", UriEscape(issuer), ":", UriEscape(account),
                      "?secret=", Base32Encode(key), "&issuer=", UriEscape(issuer),
                      "&algorithm=SHA1&digits=", kTotpDigits, "&period=", kTotpStepSeconds);
}

}  // namespace penncloud::accounts
