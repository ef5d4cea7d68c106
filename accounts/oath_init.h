// liboath (base32 and HOTP for two-step sign-in) must be initialised once per process
// before its first use; this does it on the first call, from any thread.
#pragma once

#include <liboath/oath.h>

#include <cstdlib>

namespace penncloud::accounts {

inline void EnsureOathInitialized() {
  static const bool ok = oath_init() == OATH_OK;
  if (!ok) std::abort();  // only if its crypto backend cannot start
}

}  // namespace penncloud::accounts
