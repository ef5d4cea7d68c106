// The WebDAV If header parser (frontend/webdav_if.h) on arbitrary bytes: it either refuses
// the header or returns lists within the limits, each with at least one condition.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "frontend/webdav_if.h"
#include "fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace penncloud::frontend::dav;
  std::string_view header(reinterpret_cast<const char*>(data), size);
  auto lists = ParseIfHeader(header);
  if (!lists.ok()) return 0;
  FUZZ_CHECK(header.size() <= kMaxIfHeaderBytes);
  size_t conditions = 0;
  for (const auto& list : *lists) {
    FUZZ_CHECK(!list.conditions.empty());
    conditions += list.conditions.size();
  }
  FUZZ_CHECK(conditions <= kMaxIfConditions);
  FUZZ_CHECK(SubmittedTokens(*lists).size() <= conditions);
  return 0;
}
