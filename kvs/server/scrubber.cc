#include "kvs/server/scrubber.h"

#include "common/log.h"

namespace penncloud::kvs::server {

Scrubber::Scrubber(const storage::ReplicaStore& store, std::chrono::milliseconds first,
                   std::chrono::milliseconds every)
    : store_(store), thread_([this, first, every] { Run(first, every); }) {}

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
    absl::Status s = store_.Scrub(stop_);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (stop_) return;
    // Damage has already gone to the corruption sink; other errors wait for the next pass.
    if (s.ok()) {
      PC_LOG(kInfo, "kvs.scrubbed")("ms", took.count());
    } else {
      PC_LOG(kError, "kvs.scrub_failed")("ms", took.count())("error", s.ToString());
    }
  }
}

}  // namespace penncloud::kvs::server
