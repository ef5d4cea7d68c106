// The parked KvsService.Watch calls of a leader (docs/kvs.md "Watches").
//
// Why a watch never misses a change: the loop thread both applies committed writes and
// parks watches, so "does a cell differ from what the caller knows" (checked by the caller
// of Park, on the applied state) and the registration happen between two applies; every
// later apply that touches a watched cell goes through Changed. The table's own mutex is
// only for callers that go away (Cancel, on gRPC threads).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "kvs/client/client.h"

namespace penncloud::kvs::server {

// One parked call, as the table sees it.
class Watcher {
 public:
  virtual ~Watcher() = default;
  // Ends the call, exactly once: OK with the cells that differ (none: timed out), or an
  // error. Called without the table's lock held.
  virtual void Answer(const absl::Status& status, std::vector<WatchedCell> changed) = 0;
  // Any thread, before Cancel: the caller went away.
  void MarkCancelled() { cancelled_.store(true, std::memory_order_release); }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> cancelled_{false};
};

class WatchTable {
 public:
  using Clock = std::chrono::steady_clock;
  explicit WatchTable(size_t capacity) : capacity_(capacity) {}

  // Loop thread, once the caller found every cell of `known` unchanged on the applied
  // state. RESOURCE_EXHAUSTED when `capacity` watches are parked; CANCELLED if `w` was
  // cancelled already. On an error `w` is not parked and the caller answers it.
  absl::Status Park(const std::string& row, std::vector<WatchedCell> known,
                    Clock::time_point deadline, Watcher* w);
  // Any thread: whether some watch waits on a cell of `row` (cheap when none does).
  bool Watches(const std::string& row) const;
  // Loop thread, after a write to (row, column) was applied: it now holds `value`. Wakes
  // every watch of that cell whose known value differs.
  void Changed(const std::string& row, const std::string& column,
               const std::optional<std::string>& value);
  // Loop thread: answers OK with no cells every watch whose deadline passed.
  void Expire(Clock::time_point now);
  // Loop thread: answers every watch with `status` (leadership lost, shutdown).
  void FailAll(const absl::Status& status);
  // Any thread, after w->MarkCancelled(): true if `w` was parked, then it is removed and
  // its caller answers it; false if the table has answered it or never held it.
  bool Cancel(Watcher* w);

  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    Watcher* watcher;
    std::vector<WatchedCell> known;
    Clock::time_point deadline;
  };
  struct Answer {
    Watcher* watcher;
    absl::Status status;
    std::vector<WatchedCell> changed;
  };
  // REQUIRES: mu_ held. Removes the entries of `row` for which `pick` fills an answer.
  template <typename Pick>
  void Take(const std::string& row, Pick pick, std::vector<Answer>* out);
  static void Send(std::vector<Answer> answers);

  const size_t capacity_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::vector<Entry>> by_row_;  // GUARDED_BY(mu_)
  absl::flat_hash_map<Watcher*, std::string> rows_;              // GUARDED_BY(mu_)
  std::atomic<size_t> size_{0};
};

}  // namespace penncloud::kvs::server
