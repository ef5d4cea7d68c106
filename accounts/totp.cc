#include "accounts/totp.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "accounts/base32.h"
#include "accounts/oath_init.h"
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
  EnsureOathInitialized();
  char code[OATH_HOTP_LENGTH(8, false) + 1];
  if (digits < 6 || digits > 8 ||
      oath_hotp_generate(key.data(), key.size(), counter, static_cast<unsigned>(digits), false,
                         OATH_HOTP_DYNAMIC_TRUNCATION, code) != OATH_OK) {
    std::abort();  // digits is one of our constants; liboath fails on nothing else
  }
  return std::string(code, static_cast<size_t>(digits));
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
