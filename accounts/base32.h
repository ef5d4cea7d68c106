// Base32 (RFC 4648, alphabet A-Z2-7, no padding), by liboath: the text form of TOTP
// secrets in otpauth:// URIs, and of the secrets people type (app passwords, recovery
// codes), since it has no look-alike pairs of upper and lower case.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace penncloud::accounts {

// Upper-case, unpadded.
std::string Base32Encode(std::string_view bytes);

// Accepts either case, spaces and '=' padding; std::nullopt on any other character or on
// a length that leaves no whole byte.
std::optional<std::string> Base32Decode(std::string_view text);

}  // namespace penncloud::accounts
