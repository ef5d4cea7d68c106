// Secrets for sessions and CSRF: random bytes from OpenSSL's CSPRNG, their URL-safe text
// form, a digest to key stored sessions by, and a constant-time comparison.
#pragma once

#include <string>
#include <string_view>

namespace penncloud::accounts {

// `n` bytes from RAND_bytes. Aborts if the CSPRNG fails: nothing secure can follow.
std::string RandomBytes(size_t n);

// 32 random bytes as unpadded base64url (43 characters): a session or CSRF token.
std::string NewToken();

// Hex SHA-256 of `data`. Sessions are stored under the digest of their token, so a copy of
// the store does not hand out live sessions.
std::string Sha256Hex(std::string_view data);

// Equality in time independent of where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace penncloud::accounts
