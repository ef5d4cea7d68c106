#include "kvs/server/persist_thread.h"

#include <chrono>

namespace penncloud::kvs::server {

PersistThread::PersistThread(LoopQueue& queue) : queue_(queue), thread_([this] { Serve(); }) {}

PersistThread::~PersistThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void PersistThread::Run(const std::function<void()>& write) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    work_ = &write;
    done_ = false;
  }
  cv_.notify_one();
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_) return;
    }
    // The persist thread wakes the queue when it is done; the bound only covers a wake-up
    // lost to a closed queue.
    queue_.Poll(LoopQueue::Clock::now() + std::chrono::milliseconds(50));
  }
}

void PersistThread::Serve() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || work_ != nullptr; });
    if (work_ == nullptr) return;  // stopping, and nothing asked
    const std::function<void()>* work = work_;
    lock.unlock();
    (*work)();
    lock.lock();
    work_ = nullptr;
    done_ = true;
    lock.unlock();
    queue_.Wake();
    lock.lock();
  }
}

}  // namespace penncloud::kvs::server
