#include "accounts/password_hash.h"

#include <argon2.h>

#include <vector>

#include "absl/status/status.h"
#include "accounts/tokens.h"

namespace penncloud::accounts {
namespace {
constexpr size_t kSaltBytes = 16;
constexpr size_t kTagBytes = 32;
}  // namespace

absl::StatusOr<std::string> HashPassword(std::string_view password, const HashParams& params) {
  std::string salt = RandomBytes(kSaltBytes);
  size_t len = argon2_encodedlen(params.iterations, params.memory_kib, params.lanes, kSaltBytes,
                                 kTagBytes, Argon2_id);
  std::vector<char> encoded(len);
  int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.lanes,
                                 password.data(), password.size(), salt.data(), salt.size(),
                                 kTagBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return absl::InternalError(std::string("argon2: ") + argon2_error_message(rc));
  }
  return std::string(encoded.data());
}

bool VerifyPassword(std::string_view password, const std::string& encoded) {
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace penncloud::accounts
