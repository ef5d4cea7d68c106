// A fixed set of threads running queued tasks, with a bounded queue. Handlers that call the
// KVS run here so the I/O threads never wait on the store.
//
// The queue is bounded twice: by length, and by delay. Once the oldest waiting task has
// waited longer than `max_queue_delay`, new tasks are refused until the workers catch up,
// so past saturation a request gets a quick 503 instead of a place at the back of a queue
// it would leave only after its client gave up (a length bound alone cannot say when that
// is: it depends on how long each task takes).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace penncloud::http {

class WorkerPool {
 public:
  static constexpr std::chrono::milliseconds kDefaultMaxQueueDelay{3000};

  WorkerPool(int threads, size_t max_queued,
             std::chrono::milliseconds max_queue_delay = kDefaultMaxQueueDelay);
  ~WorkerPool();  // runs what is queued, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False (and `task` dropped) if the queue is full or too slow: the caller answers 503.
  bool Submit(std::function<void()> task);

  // Tasks refused so far (full or too slow), for load figures and tests.
  int64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Queued {
    std::function<void()> task;
    Clock::time_point since;
  };

  void Loop();

  const size_t max_queued_;
  const Clock::duration max_queue_delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;     // GUARDED_BY(mu_)
  std::atomic<int64_t> refused_{0};
  std::vector<std::thread> threads_;
};

}  // namespace penncloud::http
