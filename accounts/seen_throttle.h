// Decides when a session's "last seen" is worth writing: at most once per interval per
// session in this process, so a page that makes twenty API calls costs one store write a
// minute, not twenty. Bounded: past kMaxEntries it forgets everything (the cost is one
// early write per session).
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/time/time.h"

namespace penncloud::accounts {

class SeenThrottle {
 public:
  explicit SeenThrottle(absl::Duration interval = absl::Minutes(1)) : interval_(interval) {}

  // True (and remembers `now`) if `key` was not let through within the interval.
  bool ShouldWrite(const std::string& key, absl::Time now) {
    std::lock_guard lock(mu_);
    if (!DueLocked(key, now)) return false;
    if (last_.size() >= kMaxEntries) last_.clear();
    last_[key] = now;
    return true;
  }

  // Whether ShouldWrite would be true, remembering nothing.
  bool Due(const std::string& key, absl::Time now) {
    std::lock_guard lock(mu_);
    return DueLocked(key, now);
  }

 private:
  bool DueLocked(const std::string& key, absl::Time now) const {
    auto it = last_.find(key);
    return it == last_.end() || now - it->second >= interval_;
  }

  static constexpr size_t kMaxEntries = 100000;
  const absl::Duration interval_;
  std::mutex mu_;
  std::unordered_map<std::string, absl::Time> last_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::accounts
