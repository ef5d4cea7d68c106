// The server's side of thumbnailing: runs the `thumbnailer` binary as a child process per
// image, feeds it the bytes, and takes the JPEG back, so that a decoder crash, hang or
// blow-up costs one child and never the server.
//
// A fresh process per image (rather than a pool of long-lived ones): a hostile image that
// corrupts the decoder's memory cannot touch the next user's image, and the limits start
// from zero each time. Starting `thumbnailer` costs more than decoding a photo (libvips opens
// 144 shared libraries), so by default the children are forked from a zygote
// (drive/thumbnailer_zygote.h) that loaded libvips once and never reads an image; the cache
// (drive/thumbnail_cache.h) makes even that a once-per-file cost. At most `max_concurrent`
// children run at once per server, so a burst of requests queues rather than forks wide.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drive/thumbnailer_protocol.h"

namespace penncloud::drive {

struct ThumbnailProcessOptions {
  // argv before the protocol flags: {"/path/to/thumbnailer"} (tests put stand-ins here).
  std::vector<std::string> command;
  ThumbnailerLimits limits;
  // Children running at once; more requests wait up to limits.wall_ms for a turn.
  int max_concurrent = 2;
  // Fork each child from one long-lived `command --zygote` instead of starting `command`
  // per image. Falls back to starting it per image if the zygote runs more than one thread
  // or is not allowed to fork.
  bool zygote = false;
};

// Where the image comes from, a piece at a time ("" at the end), so the server never holds
// a whole file: drive::Reader::Next fits.
using ByteSource = std::function<absl::StatusOr<std::string>()>;

class ThumbnailProcess {
 public:
  // With options.zygote, starts the zygote (its readiness is awaited on first use).
  explicit ThumbnailProcess(ThumbnailProcessOptions options);
  ~ThumbnailProcess();

  // The thumbnail of `side` pixels of the image `source` yields.
  // Errors: kFailedPrecondition when the image cannot be thumbnailed (not an image,
  // undecodable, too many pixels, too big, or the decoder crashed, ran out of memory or
  // time; the message says which and is fit for the user); kUnavailable when no turn came
  // or no child could be started; the source's own errors as they are.
  absl::StatusOr<std::string> Make(int side, const ByteSource& source);

  const ThumbnailProcessOptions& options() const { return options_; }

  // The zygote's pid, 0 while none runs (it starts again on the next Make).
  pid_t zygote_pid();
  // Whether children are forked from the zygote, false once it was found multi-threaded or
  // unable to fork.
  bool forking();

 private:
  class Zygote;
  struct Started;

  bool Acquire();
  void Release();
  absl::StatusOr<Started> Start(int side, std::chrono::steady_clock::time_point deadline);
  absl::StatusOr<Started> ForkFromZygote(int side, std::chrono::steady_clock::time_point deadline);
  void RetireZygote(uint64_t generation);

  const ThumbnailProcessOptions options_;
  std::mutex mu_;
  std::condition_variable turn_;
  int running_ = 0;  // GUARDED_BY(mu_)

  std::mutex zygote_mu_;
  std::unique_ptr<Zygote> zygote_;  // GUARDED_BY(zygote_mu_)
  uint64_t zygotes_started_ = 0;    // GUARDED_BY(zygote_mu_)
  bool zygote_unusable_ = false;    // GUARDED_BY(zygote_mu_)
};

}  // namespace penncloud::drive
