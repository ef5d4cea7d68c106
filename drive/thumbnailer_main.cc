// thumbnailer: one image on stdin, its JPEG thumbnail on stdout, under the limits the
// frontend passes (drive/thumbnailer_protocol.h). No network, no store: it links neither.
// With --zygote: the frontend's fork server (drive/thumbnailer_zygote.h) on stdin.
#include <cstdint>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "drive/thumbnail.h"
#include "drive/thumbnailer_child.h"
#include "drive/thumbnailer_zygote.h"

namespace {

const penncloud::drive::ThumbnailerLimits kDefaults;

int ZygoteChild(int side, const penncloud::drive::ThumbnailerLimits& limits) {
  namespace drive = penncloud::drive;
  // The side came over the socket, not through flag parsing: checked here as --size is.
  if (side < drive::kMinThumbnailSide || side > drive::kMaxThumbnailSide) {
    return drive::kThumbnailerUsage;
  }
  return drive::RunInitialisedThumbnailer(side, limits, 0, 1, 2);
}

}  // namespace

ABSL_FLAG(bool, zygote, false,
          "serve the frontend on stdin as a zygote, forking a child per image (--size unused)");
ABSL_FLAG(int, size, 256, "longest side of the thumbnail, in pixels");
ABSL_FLAG(uint64_t, address_space_bytes, kDefaults.address_space_bytes, "RLIMIT_AS");
ABSL_FLAG(int, cpu_seconds, kDefaults.cpu_seconds, "RLIMIT_CPU");
ABSL_FLAG(uint64_t, max_input_bytes, kDefaults.max_input_bytes, "largest image read from stdin");
ABSL_FLAG(uint64_t, max_pixels, kDefaults.max_pixels, "largest width x height decoded");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  namespace drive = penncloud::drive;
  drive::ThumbnailerLimits limits;
  limits.address_space_bytes = absl::GetFlag(FLAGS_address_space_bytes);
  limits.cpu_seconds = absl::GetFlag(FLAGS_cpu_seconds);
  limits.max_input_bytes = absl::GetFlag(FLAGS_max_input_bytes);
  limits.max_pixels = absl::GetFlag(FLAGS_max_pixels);
  if (absl::GetFlag(FLAGS_zygote)) {
    // Its stderr is /dev/null: a failure to start shows as the socket closing unready.
    if (!drive::InitThumbnailDecoder().ok()) return drive::kThumbnailerInternal;
    return drive::RunThumbnailerZygote(0, limits, &ZygoteChild);
  }
  int side = absl::GetFlag(FLAGS_size);
  if (side < drive::kMinThumbnailSide || side > drive::kMaxThumbnailSide) {
    return drive::kThumbnailerUsage;
  }
  return drive::RunThumbnailer(side, limits, 0, 1, 2);
}
