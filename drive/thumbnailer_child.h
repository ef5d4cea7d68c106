// The body of the `thumbnailer` process: confine itself, read the image, write the JPEG.
// Kept out of main so the binary stays a flag parser.
#pragma once

#include "drive/thumbnailer_protocol.h"

namespace penncloud::drive {

// Lowers this process's resource limits (address space, CPU time, file size 0, no core
// files, no new descriptors) so that a decoder taken over by a hostile image can neither
// grow, spin, write files nor open sockets. Irreversible: the hard limits are lowered too.
absl::Status LowerThumbnailerLimits(const ThumbnailerLimits& limits);

// Sets no_new_privs and installs a seccomp allowlist on every thread of the process: read
// on descriptor 0, write on 1 and 2, memory management, futex, threads (clone with
// CLONE_THREAD only), exit and signal return. Any other system call kills the whole process
// with SIGSYS. Irreversible, and inherited by threads started later.
absl::Status FilterThumbnailerSyscalls();

// Both of the above, limits first. Call after libvips has loaded what it needs and before
// reading any input.
absl::Status ConfineThumbnailer(const ThumbnailerLimits& limits);

// Initialises libvips, then RunInitialisedThumbnailer.
int RunThumbnailer(int side, const ThumbnailerLimits& limits, int in_fd, int out_fd, int err_fd);

// With libvips initialised (InitThumbnailDecoder): confines the process, reads the image
// from `in_fd` (at most limits.max_input_bytes), writes a thumbnail of `side` pixels to
// `out_fd`, and on failure one line to `err_fd`. Returns the exit code (ThumbnailerExit).
int RunInitialisedThumbnailer(int side, const ThumbnailerLimits& limits, int in_fd, int out_fd,
                              int err_fd);

}  // namespace penncloud::drive
