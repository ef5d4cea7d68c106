// WebDAV locks (RFC 4918 class 2) of one user's tree, kept in the KVS so every frontend sees
// the same locks. All of a user's locks live in one cell, rewritten by compare-and-put: a
// grant checks for conflicts and writes in one step, so two frontends cannot both grant an
// exclusive lock on one path. Expired locks are dropped whenever the cell is rewritten and
// are never reported.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::drive {

struct LockInfo {
  std::string token;  // "opaquelocktoken:..."
  std::string path;   // normalised: "/a/b", "/" for the root
  bool infinite = false;
  bool shared = false;
  std::string owner_xml;
  int64_t timeout_s = 0;  // 0 = infinite
  int64_t expires_ms = 0;
};

inline constexpr size_t kMaxLocksPerUser = 1000;
inline constexpr size_t kMaxOwnerBytes = 4096;
inline constexpr int64_t kMaxLockSeconds = 7 * 24 * 3600;

class LockTable {
 public:
  // `now_ms` = nullptr: the system clock.
  explicit LockTable(kvs::Client* kvs, std::function<int64_t()> now_ms = nullptr);

  // Grants a new lock on `lock.path` (token and expiry are filled in). kFailedPrecondition
  // ("locked") if it conflicts with a live lock: an exclusive lock conflicts with any lock
  // it overlaps, a shared one with exclusive ones. kResourceExhausted past kMaxLocksPerUser.
  absl::StatusOr<LockInfo> Lock(std::string_view user, LockInfo lock);
  // Extends a live lock by `timeout_s` (0 = infinite); kNotFound if there is none.
  absl::StatusOr<LockInfo> Refresh(std::string_view user, std::string_view token,
                                   int64_t timeout_s);
  // kNotFound if no live lock has that token.
  absl::Status Unlock(std::string_view user, std::string_view token);
  // The live locks that cover `path` (on it, or on a folder above it with Depth infinity),
  // and with `below` also those on anything under it.
  absl::StatusOr<std::vector<LockInfo>> Covering(std::string_view user, std::string_view path,
                                                 bool below = false);

 private:
  int64_t Now() const;
  kvs::Client* kvs_;
  std::function<int64_t()> now_ms_;
};

// Whether `inner` is `outer` or lies under it ("/a/b" is under "/a"; "/ab" is not).
bool PathWithin(std::string_view inner, std::string_view outer);

}  // namespace penncloud::drive
