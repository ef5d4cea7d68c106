#include "mail/delivery_pool.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace penncloud::mail {
namespace {

// Enough helpers to keep the KVS client's batches full for a few concurrent deliveries;
// each helper only ever waits on a KVS call.
constexpr size_t kHelpers = 32;

// One RunTogether call: the items, who takes the next one, and how many are finished.
struct Job {
  size_t n;
  const std::function<absl::Status(size_t)>* op;
  std::mutex mu;
  std::condition_variable finished_cv;
  size_t next = 0;      // GUARDED_BY(mu)
  size_t finished = 0;  // GUARDED_BY(mu)
  absl::Status first;   // GUARDED_BY(mu)

  // Runs items until none is left to take.
  void Work() {
    for (;;) {
      size_t i;
      {
        std::lock_guard lock(mu);
        if (next == n) return;
        i = next++;
      }
      absl::Status s = (*op)(i);
      std::lock_guard lock(mu);
      if (!s.ok() && first.ok()) first = std::move(s);
      if (++finished == n) finished_cv.notify_all();
    }
  }
};

class Pool {
 public:
  Pool() {
    for (size_t i = 0; i < kHelpers; ++i) {
      std::thread([this] { Loop(); }).detach();  // lives as long as the process
    }
  }

  void Offer(const std::shared_ptr<Job>& job, size_t helpers) {
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < helpers; ++i) jobs_.push_back(job);
    }
    cv_.notify_all();
  }

 private:
  void Loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job->Work();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> jobs_;  // GUARDED_BY(mu_): one ticket per helper wanted
};

}  // namespace

absl::Status RunTogether(size_t n, const std::function<absl::Status(size_t)>& op) {
  if (n == 0) return absl::OkStatus();
  if (n == 1) return op(0);
  static Pool* pool = new Pool();  // never destroyed: its threads outlive main's objects
  auto job = std::make_shared<Job>();
  job->n = n;
  job->op = &op;
  pool->Offer(job, std::min(n - 1, kHelpers));
  job->Work();
  std::unique_lock lock(job->mu);
  job->finished_cv.wait(lock, [&] { return job->finished == n; });
  return job->first;
}

}  // namespace penncloud::mail
