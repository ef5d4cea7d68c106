// The thumbnail decoder (drive/thumbnail.h) on arbitrary bytes, in-process: the sniffing,
// the header's pixel-count check, and libvips' JPEG, PNG, WebP and GIF loaders with the
// shrink and the JPEG encoder behind them. Only PennCloud's code carries the sanitizers:
// libvips and the codec libraries are Debian's builds, uninstrumented, so a memory error
// inside them shows only if it crashes. Beyond "no crash":
// - a thumbnail is a JPEG whose longest side is at most the size asked;
// - a refusal is one of the three documented kinds, and bytes that are none of our formats
//   are always refused as such.
#include <vips/vips.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "drive/thumbnail.h"
#include "fuzz/check.h"

namespace {

constexpr int kSide = 48;
// Small, so one input decodes in milliseconds and under libFuzzer's memory limit.
constexpr penncloud::drive::DecodeLimits kLimits{.max_pixels = 4'000'000};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("VIPSHOME", "/nonexistent", 1);  // no loadable modules, as in the thumbnailer
  if (!penncloud::drive::InitThumbnailDecoder().ok()) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace penncloud::drive;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto thumb = MakeThumbnail(bytes, kSide, kLimits);
  if (!SniffImageFormat(bytes)) FUZZ_CHECK(absl::IsUnimplemented(thumb.status()));
  if (!thumb.ok()) {
    FUZZ_CHECK(absl::IsUnimplemented(thumb.status()) || absl::IsResourceExhausted(thumb.status()) ||
               absl::IsInvalidArgument(thumb.status()));
    return 0;
  }
  FUZZ_CHECK(SniffImageFormat(*thumb) == ImageFormat::kJpeg);
  VipsImage* out = vips_image_new_from_buffer(thumb->data(), thumb->size(), "", nullptr);
  FUZZ_CHECK(out != nullptr);
  FUZZ_CHECK(vips_image_get_width(out) <= kSide && vips_image_get_height(out) <= kSide);
  g_object_unref(out);
  return 0;
}
