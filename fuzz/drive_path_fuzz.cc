// Drive path rules (storage/path.h), Range headers (frontend/drive_api.h) and request-target
// decoding (http/types.h): the small parsers every drive request goes through.
// Beyond "no crash", each is held to what it promises:
// - SplitPath accepts only valid components, and JoinPath of its result splits the same;
// - a resolved range lies inside the file and is never empty;
// - PercentEncode then PercentDecode gives the original bytes back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "drive/path.h"
#include "frontend/drive_api.h"
#include "fuzz/check.h"
#include "http/types.h"

namespace {

void CheckPath(std::string_view path) {
  using namespace penncloud::drive;
  auto parts = SplitPath(path);
  if (!parts.ok()) return;
  FUZZ_CHECK(parts->size() <= kMaxDepth);
  for (const auto& p : *parts) FUZZ_CHECK(ValidateName(p).ok() && p.find('/') == std::string::npos);
  auto again = SplitPath(JoinPath(*parts));
  FUZZ_CHECK(again.ok() && *again == *parts);
}

void CheckRange(std::string_view header, uint64_t size) {
  bool unsatisfiable = false;
  auto range = penncloud::frontend::ParseRange(header, size, &unsatisfiable);
  if (range) {
    FUZZ_CHECK(!unsatisfiable);
    FUZZ_CHECK(range->begin < range->end && range->end <= size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckPath(in);
  // The first 8 bytes (if any) give a file size for the range; the rest is the header.
  uint64_t file_size = 0;
  std::string_view header = in;
  if (in.size() >= 8) {
    for (int i = 0; i < 8; ++i) file_size = file_size << 8 | static_cast<uint8_t>(in[i]);
    header = in.substr(8);
    // Small sizes are where off-by-ones live.
    if (file_size >> 63) file_size &= 0xFFFF;
  }
  CheckRange(header, file_size);
  CheckRange(in, 1000);

  using namespace penncloud::frontend;
  FUZZ_CHECK(PercentDecode(PercentEncode(in), false) == std::string(in));
  Request req;
  req.target = std::string(in);
  ParseTarget(req);
  FUZZ_CHECK(req.path.size() <= in.size());
  return 0;
}
