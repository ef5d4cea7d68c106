// Thumbnails kept in the store, keyed by the content version they were made from: row
// drive/<user>/thumb/<version>, one column per size. A version's bytes never change, so an
// entry stays right for as long as the version lives, a replaced file (new version) never
// shows a stale thumbnail, and the collector deletes the row with the version's chunks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::drive {

// Bigger thumbnails are served but not kept (a 1024 px JPEG is normally a few hundred KiB).
inline constexpr size_t kMaxCachedThumbnailBytes = 1 << 20;

class ThumbnailCache {
 public:
  explicit ThumbnailCache(kvs::Client* store) : store_(store) {}

  // The thumbnail of `side` pixels, or nullopt if none was kept. One store read.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view user, std::string_view version,
                                                 int side);
  absl::Status Put(std::string_view user, std::string_view version, int side,
                   std::string_view jpeg);
  // Every size kept for `version` (the collector, when the version's chunks go).
  absl::Status DeleteAll(std::string_view user, std::string_view version);

 private:
  kvs::Client* store_;
};

}  // namespace penncloud::drive
