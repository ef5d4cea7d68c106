#include "http/worker_pool.h"

namespace penncloud::http {

WorkerPool::WorkerPool(int threads, size_t max_queued, std::chrono::milliseconds max_queue_delay)
    : max_queued_(max_queued), max_queue_delay_(max_queue_delay) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool WorkerPool::Submit(std::function<void()> task) {
  {
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    if (queue_.size() >= max_queued_ ||
        (!queue_.empty() && now - queue_.front().since > max_queue_delay_)) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back({std::move(task), now});
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front().task);
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace penncloud::http
