#include "accounts/base32.h"

#include <liboath/oath.h>

#include <cstdlib>
#include <memory>

#include "accounts/oath_init.h"

namespace penncloud::accounts {
namespace {

// liboath hands back malloc'd buffers.
struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using OathBuffer = std::unique_ptr<char, FreeDeleter>;

}  // namespace

std::string Base32Encode(std::string_view bytes) {
  EnsureOathInitialized();
  char* out = nullptr;
  size_t length = 0;
  if (oath_base32_encode(bytes.data(), bytes.size(), &out, &length) != OATH_OK) std::abort();
  OathBuffer owned(out);
  std::string text(out, length);
  text.erase(text.find_last_not_of('=') + 1);  // otpauth:// URIs and people want it unpadded
  return text;
}

std::optional<std::string> Base32Decode(std::string_view text) {
  EnsureOathInitialized();
  char* out = nullptr;
  size_t length = 0;
  if (oath_base32_decode(text.data(), text.size(), &out, &length) != OATH_OK) {
    return std::nullopt;
  }
  OathBuffer owned(out);
  return std::string(out, length);
}

}  // namespace penncloud::accounts
