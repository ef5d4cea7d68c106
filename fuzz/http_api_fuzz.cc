// The frontend's JSON API through its router: every route's request parsing (JSON bodies,
// query strings, headers such as Cookie, X-CSRF-Token, Range, If-Match), from raw HTTP
// bytes. See fuzz/http_harness.h for the world it runs in and what it checks.
#include <cstddef>
#include <cstdint>

#include "fuzz/http_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  penncloud::fuzz::RunHttpInput(data, size, {.webdav = false});
  return 0;
}
