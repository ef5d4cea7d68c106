#include "kvs/server/scrubber.h"

#include "common/log.h"

namespace penncloud::kvs::server {

namespace {

// How often a pass looks at the clock: often enough for a smooth rate, rarely enough that
// the look costs nothing beside the reads.
constexpr uint64_t kPaceBytes = 256 << 10;

}  // namespace

Scrubber::Scrubber(const storage::ReplicaStore& store, std::chrono::milliseconds first,
                   std::chrono::milliseconds every, uint64_t bytes_per_s)
    : store_(store),
      bytes_per_s_(bytes_per_s),
      thread_([this, first, every] { Run(first, every); }) {}

Scrubber::~Scrubber() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Scrubber::Run(std::chrono::milliseconds first, std::chrono::milliseconds every) {
  for (std::chrono::milliseconds wait = first;; wait = every) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stop_.load(); })) return;
    }
    const auto started = std::chrono::steady_clock::now();
    uint64_t bytes = 0;
    uint64_t paced_at = 0;
    absl::Status s = store_.Scrub([&](size_t read) {
      bytes += read;
      if (bytes - paced_at < kPaceBytes) return !stop_.load(std::memory_order_relaxed);
      paced_at = bytes;
      return Pace(started, bytes);
    });
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (stop_) return;
    ++passes_;
    // Damage has already gone to the corruption sink; other errors wait for the next pass.
    if (s.ok()) {
      PC_LOG(kInfo, "kvs.scrubbed")("ms", took.count())("bytes", bytes);
    } else {
      PC_LOG(kError, "kvs.scrub_failed")("ms", took.count())("error", s.ToString());
    }
  }
}

bool Scrubber::Pace(std::chrono::steady_clock::time_point started, uint64_t bytes) {
  if (bytes_per_s_ == 0) return !stop_.load();
  const auto due =
      started + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(bytes) * 1e9 /
                                                              static_cast<double>(bytes_per_s_)));
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_until(lock, due, [this] { return stop_.load(); });
}

}  // namespace penncloud::kvs::server
