#include "kvs/server/persist_thread.h"

#include <chrono>

namespace penncloud::kvs::server {

PersistThread::PersistThread(LoopQueue& queue) : queue_(queue), thread_([this] { Serve(); }) {}

PersistThread::~PersistThread() {
  stop_ = true;
  start_.release();
  thread_.join();
}

void PersistThread::Run(const std::function<void()>& write) {
  done_ = false;
  work_ = &write;
  start_.release();
  // The persist thread's alarm ends the wait; the bound only covers a queue being shut
  // down, which no write outlives (the loop writes only while it runs).
  while (!done_) queue_.Poll(LoopQueue::Clock::now() + std::chrono::milliseconds(50));
}

void PersistThread::Serve() {
  while (true) {
    start_.acquire();
    if (stop_) return;
    (*work_)();
    // A deadline in the past fires at once, from this thread (LoopQueue::Wake says why
    // not "now"). The loop sets the alarm again only after its tag ran.
    alarm_.Set(queue_.cq(), gpr_inf_past(GPR_CLOCK_MONOTONIC), &done_tag_);
  }
}

}  // namespace penncloud::kvs::server
