// thumbnailer: one image on stdin, its JPEG thumbnail on stdout, under the limits the
// frontend passes (drive/thumbnailer_protocol.h). No network, no store: it links neither.
#include <cstdint>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "drive/thumbnail.h"
#include "drive/thumbnailer_child.h"

namespace {
const penncloud::drive::ThumbnailerLimits kDefaults;
}  // namespace

ABSL_FLAG(int, size, 256, "longest side of the thumbnail, in pixels");
ABSL_FLAG(uint64_t, address_space_bytes, kDefaults.address_space_bytes, "RLIMIT_AS");
ABSL_FLAG(int, cpu_seconds, kDefaults.cpu_seconds, "RLIMIT_CPU");
ABSL_FLAG(uint64_t, max_input_bytes, kDefaults.max_input_bytes, "largest image read from stdin");
ABSL_FLAG(uint64_t, max_pixels, kDefaults.max_pixels, "largest width x height decoded");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  namespace drive = penncloud::drive;
  int side = absl::GetFlag(FLAGS_size);
  if (side < drive::kMinThumbnailSide || side > drive::kMaxThumbnailSide) {
    return drive::kThumbnailerUsage;
  }
  drive::ThumbnailerLimits limits;
  limits.address_space_bytes = absl::GetFlag(FLAGS_address_space_bytes);
  limits.cpu_seconds = absl::GetFlag(FLAGS_cpu_seconds);
  limits.max_input_bytes = absl::GetFlag(FLAGS_max_input_bytes);
  limits.max_pixels = absl::GetFlag(FLAGS_max_pixels);
  return drive::RunThumbnailer(side, limits, 0, 1, 2);
}
