// Slow, salted password hashing with Argon2id (Debian's libargon2).
//
// Parameters follow the OWASP Password Storage Cheat Sheet's first Argon2id choice:
// 19 MiB of memory (m=19456 KiB), 2 iterations (t=2), 1 lane (p=1), a 16-byte random salt
// and a 32-byte tag. The result is the self-describing PHC string
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so raising the parameters later keeps
// old hashes verifiable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace penncloud::accounts {

struct HashParams {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t lanes = 1;
};

// Unit tests use these to keep hashing fast; production never does.
inline constexpr HashParams kTestHashParams{.memory_kib = 64, .iterations = 1, .lanes = 1};

absl::StatusOr<std::string> HashPassword(std::string_view password, const HashParams& params);

// True iff `password` matches `encoded`. The comparison inside libargon2 is constant-time.
bool VerifyPassword(std::string_view password, const std::string& encoded);

}  // namespace penncloud::accounts
