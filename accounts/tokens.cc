#include "accounts/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "accounts/base32.h"

namespace penncloud::accounts {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

std::string NewToken() { return absl::WebSafeBase64Escape(RandomBytes(32)); }

std::string Sha256Hex(std::string_view data) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up again on every digest,
  // which cost several times the hashing of a session token (done on every request). The
  // context is kept per thread: EVP_Digest makes and frees one per call.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct ContextFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local const std::unique_ptr<EVP_MD_CTX, ContextFree> ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) {
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * len, '\0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

std::string NewTypedSecret(int groups) {
  // 5 random bytes are exactly 8 base32 characters: two groups.
  std::string text = absl::AsciiStrToLower(Base32Encode(RandomBytes(5 * ((groups + 1) / 2))));
  std::string out;
  for (int g = 0; g < groups; ++g) {
    if (g > 0) out.push_back('-');
    out.append(text, 4 * g, 4);
  }
  return out;
}

std::optional<std::string> CanonicalTypedSecret(std::string_view typed, int groups) {
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    c = absl::ascii_tolower(static_cast<unsigned char>(c));
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return std::nullopt;
    out.push_back(c);
  }
  if (out.size() != static_cast<size_t>(4 * groups)) return std::nullopt;
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace penncloud::accounts
