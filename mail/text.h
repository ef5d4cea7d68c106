// Small string helpers for the mail tier. (Debian's absl keeps its own string_view type,
// so absl::StrCat does not take std::string_view; these do.)
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace penncloud::mail {

namespace text_internal {
inline void Append(std::string& s, std::string_view v) { s.append(v); }
inline void Append(std::string& s, char c) { s.push_back(c); }
template <typename T>
requires std::is_integral_v<T>
void Append(std::string& s, T v) { s.append(std::to_string(v)); }
}  // namespace text_internal

template <typename... T>
std::string Cat(const T&... parts) {
  std::string s;
  (text_internal::Append(s, parts), ...);
  return s;
}

// Case-insensitive ASCII comparison, as every SMTP/POP3 keyword is.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
std::string ToLower(std::string_view s);
std::string_view Trim(std::string_view s);
std::vector<std::string_view> SplitSpaces(std::string_view s);

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates). Protobuf string
// fields refuse anything else, so every text kept in one passes through here.
bool IsValidUtf8(std::string_view s);
// `s` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string ScrubUtf8(std::string_view s);

// The current time as an RFC 5322 date ("Tue, 24 Nov 2026 17:00:00 +0000").
std::string Rfc5322Date();

// Base64 (RFC 4648) for SASL. Decode fails (returns false) on malformed input.
std::string Base64Encode(std::string_view data);
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace penncloud::mail
