#include "mail/search_merger.h"

#include "mail/search_index.h"
#include "mail/search_merge.h"

namespace penncloud::mail {
namespace {

// Users counted or remembered at most; past it the memory starts over (a merge is then
// only early, a sweep finds nothing to delete).
constexpr size_t kMaxCounted = 10000;

}  // namespace

BackgroundMerger::BackgroundMerger(kvs::Client& kvs, std::function<int64_t()> now_micros)
    : kvs_(kvs), now_micros_(std::move(now_micros)) {}

BackgroundMerger::~BackgroundMerger() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundMerger::MergeEvery(int every) {
  std::lock_guard lock(mu_);
  every_ = every;
}

void BackgroundMerger::Delivered(std::string_view user) {
  std::lock_guard lock(mu_);
  if (every_ <= 0) return;
  if (counts_.size() >= kMaxCounted) counts_.clear();
  auto it = counts_.try_emplace(std::string(user), 0).first;
  if (++it->second < every_) return;
  counts_.erase(it);
  Enqueue(user, Job::kMerge);
}

void BackgroundMerger::Touched(std::string_view user) {
  std::lock_guard lock(mu_);
  if (touched_.size() >= kMaxCounted) touched_.clear();
  if (touched_.insert(std::string(user)).second) Enqueue(user, Job::kSweep);
}

void BackgroundMerger::Enqueue(std::string_view user, Job job) {
  Queued entry(std::string(user), job);
  if (!queued_.insert(entry).second) return;  // already waiting
  queue_.push_back(std::move(entry));
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });  // at the first job
  wake_.notify_one();
}

void BackgroundMerger::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto [user, job] = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase({user, job});
    lock.unlock();
    if (job == Job::kMerge) {
      // A failed merge is retried by the next one; queries merge meanwhile.
      (void)MergeIndex(kvs_, user, now_micros_());
      lock.lock();
      if (touched_.insert(user).second) Enqueue(user, Job::kSweep);
      continue;
    }
    auto swept = SweepFirstLayout(kvs_, user, kSweepBatch);
    lock.lock();
    if (!swept.ok()) {
      touched_.erase(user);  // the next touch tries again
    } else if (!*swept) {
      Enqueue(user, Job::kSweep);  // more left: after the others' work
    }
  }
}

}  // namespace penncloud::mail
