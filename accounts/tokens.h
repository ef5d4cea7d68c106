// Secrets for sessions and CSRF: random bytes from OpenSSL's CSPRNG, their URL-safe text
// form, a digest to key stored sessions by, and a constant-time comparison. Also the
// secrets people type (app passwords, recovery codes): base32 in groups of four.
#pragma once

#include <optional>
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

// `groups` groups of four random lower-case base32 characters joined by '-' (5 bits per
// character: 8 groups carry 160 bits), e.g. "k3m9-...".
std::string NewTypedSecret(int groups);

// The secret as typed, folded to its canonical form (lower case, no '-' or spaces), if it
// has the shape of a `groups`-group secret; std::nullopt otherwise.
std::optional<std::string> CanonicalTypedSecret(std::string_view typed, int groups);

// Equality in time independent of where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace penncloud::accounts
