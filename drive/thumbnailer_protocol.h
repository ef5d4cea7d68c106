// What the frontend and the `thumbnailer` process agree on: the limits the child runs under
// (passed as flags), and its exit codes. The image goes in on stdin, the JPEG comes out on
// stdout, and a one-line reason on stderr when it fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace penncloud::drive {

struct ThumbnailerLimits {
  // RLIMIT_AS. Measured: thumbnailing a 12-megapixel JPEG peaks at 57 MiB resident; a
  // 100 MP GIF frame is decoded whole, 400 MB of RGBA.
  uint64_t address_space_bytes = uint64_t{768} << 20;
  // RLIMIT_CPU (the kernel kills the child past it).
  int cpu_seconds = 10;
  // Wall clock, enforced by the parent with SIGKILL: a decoder blocked or sleeping uses no CPU.
  int wall_ms = 15000;
  // Bytes of image read from stdin; the parent refuses bigger files before spawning.
  uint64_t max_input_bytes = uint64_t{64} << 20;
  // Bytes of thumbnail the parent accepts from stdout (a 1024 px JPEG is far below).
  uint64_t max_output_bytes = uint64_t{4} << 20;
  // Width x height declared by the header (see DecodeLimits).
  uint64_t max_pixels = 100'000'000;
};

// The thumbnailer's exit codes (sysexits-style numbers, clear of signals and 0/1).
enum ThumbnailerExit : int {
  kThumbnailerOk = 0,
  kThumbnailerUsage = 64,          // bad flags: a bug in the caller
  kThumbnailerNotAnImage = 65,     // not JPEG, PNG, WebP or GIF by its first bytes
  kThumbnailerTooManyPixels = 66,  // the header declares more than max_pixels
  kThumbnailerUndecodable = 67,    // the decoder refused the bytes (truncated, corrupt)
  kThumbnailerInputTooLarge = 68,  // more than max_input_bytes on stdin
  kThumbnailerInternal = 70,       // could not start libvips, or write stdout
};

// The child's exit code for MakeThumbnail's status (drive/thumbnail.h).
int ThumbnailerExitFor(const absl::Status& status);

// argv[1..] for a thumbnail of `side` pixels under `limits`.
std::vector<std::string> ThumbnailerArgs(int side, const ThumbnailerLimits& limits);

// argv[1..] for the zygote (drive/thumbnailer_zygote.h) whose children run under `limits`.
std::vector<std::string> ThumbnailerZygoteArgs(const ThumbnailerLimits& limits);

// The zygote and the frontend exchange fixed-size messages over a SOCK_SEQPACKET socket,
// the zygote's descriptor 0. Frontend to zygote, per image: the side, with the child's
// stdin, stdout and stderr attached (SCM_RIGHTS, in that order).
struct ZygoteRequest {
  int32_t side;
};

enum ZygoteMessageKind : int32_t {
  kZygoteReady = 1,     // once, after libvips is up; value: 1, its thread count
  kZygoteStarted = 2,   // per request; value: the child's pid, a child of the frontend
  kZygoteFailed = 3,    // per request; value: the errno of the failed fork
  kZygoteThreaded = 4,  // instead of either, then the zygote exits; value: its thread count
};

// Zygote to frontend.
struct ZygoteMessage {
  int32_t kind;
  int32_t value;
};

}  // namespace penncloud::drive
