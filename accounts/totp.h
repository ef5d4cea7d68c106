// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), the codes an
// authenticator app shows: HMAC-SHA1 (OpenSSL) of the 30-second step count, cut to six
// digits. Pure functions; two_factor.h keeps the state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace penncloud::accounts {

inline constexpr int64_t kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;
// Steps either side of now that still count, for clocks that drift and codes typed late.
inline constexpr int kTotpWindow = 1;

// The step that `t` falls in (RFC 6238's T).
int64_t TotpStep(absl::Time t);

// HOTP(key, counter) with `digits` digits, zero-padded (RFC 4226 section 5.3).
std::string HotpCode(std::string_view key, uint64_t counter, int digits = kTotpDigits);

// The step within kTotpWindow of `now` whose code is `code`, if any. Codes must be exactly
// kTotpDigits digits (spaces are the caller's to strip).
std::optional<int64_t> MatchTotp(std::string_view key, std::string_view code, absl::Time now);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6
// &period=30: what the enrollment QR code carries (the Key Uri Format authenticator apps
// read).
std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view key);

}  // namespace penncloud::accounts
