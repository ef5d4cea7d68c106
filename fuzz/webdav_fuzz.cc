// WebDAV (frontend/webdav.h) from raw HTTP bytes, already authenticated: PROPFIND and
// PROPPATCH bodies, and the Destination, Depth, Overwrite, If-Match / If-None-Match and Range
// headers of every method. See fuzz/http_harness.h for the world and the checks.
#include <cstddef>
#include <cstdint>

#include "fuzz/http_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  penncloud::fuzz::RunHttpInput(data, size, {.webdav = true});
  return 0;
}
