#include "mail/search_concurrency.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace penncloud::mail {
namespace {

// One ForEachConcurrently call. Helpers hold it by shared_ptr, so a helper that takes its
// offer after the caller returned finds no index left and touches only this.
struct Job {
  size_t n = 0;
  const std::function<absl::Status(size_t)>* op = nullptr;  // only called for an index < n
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable all_done;
  size_t finished = 0;  // GUARDED_BY(mu)
  absl::Status first;   // GUARDED_BY(mu)

  void Work() {
    for (size_t i = next++; i < n; i = next++) {
      absl::Status s = (*op)(i);
      std::lock_guard<std::mutex> lock(mu);
      if (!s.ok() && first.ok()) first = std::move(s);
      if (++finished == n) all_done.notify_all();
    }
  }
};

// Threads kept for the callers' jobs. IMAP FETCH and SEARCH call ForEachConcurrently for
// every 64 messages, and starting 15 threads per call showed in their profile (thread
// start-up and the switches around it were part of the 38% of a FETCH ENVELOPE's CPU spent
// in the kernel). The pool grows while every helper is busy, up to kMaxHelpers; past that a
// caller does more of its own job itself, which is slower but never waits on a helper.
class Helpers {
 public:
  static Helpers& Instance() {
    static auto* helpers = new Helpers();  // never destroyed: its threads outlive main
    return *helpers;
  }

  void Offer(const std::shared_ptr<Job>& job, size_t copies) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t c = 0; c < copies; ++c) {
      offers_.push_back(job);
      // An idle helper for every offer waiting, or one more helper.
      if (idle_ >= offers_.size()) {
        wake_.notify_one();
      } else if (threads_ < kMaxHelpers) {
        ++threads_;
        std::thread([this] { Serve(); }).detach();
      }
    }
  }

 private:
  static constexpr size_t kMaxHelpers = 64;

  void Serve() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      wake_.wait(lock, [this] { return !offers_.empty(); });
      --idle_;
      std::shared_ptr<Job> job = std::move(offers_.front());
      offers_.pop_front();
      lock.unlock();
      job->Work();
      job.reset();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> offers_;  // GUARDED_BY(mu_)
  size_t idle_ = 0;                          // GUARDED_BY(mu_): helpers waiting for an offer
  size_t threads_ = 0;                       // GUARDED_BY(mu_)
};

}  // namespace

absl::Status ForEachConcurrently(size_t n, size_t threads,
                                 const std::function<absl::Status(size_t)>& op) {
  if (n == 0) return absl::OkStatus();
  auto job = std::make_shared<Job>();
  job->n = n;
  job->op = &op;
  if (size_t helpers = std::min(n, threads); helpers > 1) {
    Helpers::Instance().Offer(job, helpers - 1);
  }
  job->Work();
  std::unique_lock<std::mutex> lock(job->mu);
  job->all_done.wait(lock, [&] { return job->finished == n; });
  return job->first;
}

}  // namespace penncloud::mail
