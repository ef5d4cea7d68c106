// The server's side of thumbnailing: runs the `thumbnailer` binary as a child process per
// image, feeds it the bytes, and takes the JPEG back, so that a decoder crash, hang or
// blow-up costs one child and never the server.
//
// A fresh process per image (rather than a pool of long-lived ones): a hostile image that
// corrupts the decoder's memory cannot touch the next user's image, and the limits start
// from zero each time. Spawning costs a few milliseconds against tens for decoding, and the
// cache (drive/thumbnail_cache.h) makes it a once-per-file cost. At most `max_concurrent`
// children run at once per server, so a burst of requests queues rather than forks wide.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
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
};

// Where the image comes from, a piece at a time ("" at the end), so the server never holds
// a whole file: drive::Reader::Next fits.
using ByteSource = std::function<absl::StatusOr<std::string>()>;

class ThumbnailProcess {
 public:
  explicit ThumbnailProcess(ThumbnailProcessOptions options);

  // The thumbnail of `side` pixels of the image `source` yields.
  // Errors: kFailedPrecondition when the image cannot be thumbnailed (not an image,
  // undecodable, too many pixels, too big, or the decoder crashed, ran out of memory or
  // time; the message says which and is fit for the user); kUnavailable when no turn came
  // or no child could be started; the source's own errors as they are.
  absl::StatusOr<std::string> Make(int side, const ByteSource& source);

  const ThumbnailProcessOptions& options() const { return options_; }

 private:
  bool Acquire();
  void Release();

  const ThumbnailProcessOptions options_;
  std::mutex mu_;
  std::condition_variable turn_;
  int running_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::drive
