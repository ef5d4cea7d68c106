#include "mail/search_merger.h"

#include "mail/search_merge.h"

namespace penncloud::mail {
namespace {

// Users counted at most; past it the counts start over (a merge is only ever early).
constexpr size_t kMaxCounted = 10000;

}  // namespace

BackgroundMerger::BackgroundMerger(kvs::Client& kvs, std::function<int64_t()> now_micros, int every)
    : kvs_(kvs), now_micros_(std::move(now_micros)), every_(every) {}

BackgroundMerger::~BackgroundMerger() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundMerger::Delivered(std::string_view user) {
  std::lock_guard lock(mu_);
  if (counts_.size() >= kMaxCounted) counts_.clear();
  auto it = counts_.try_emplace(std::string(user), 0).first;
  if (++it->second < every_) return;
  counts_.erase(it);
  if (!queued_.insert(std::string(user)).second) return;  // already waiting
  queue_.emplace_back(user);
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });  // at the first merge
  wake_.notify_one();
}

void BackgroundMerger::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::string user = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase(user);
    lock.unlock();
    // A failed merge is retried by the next one; queries merge meanwhile.
    (void)MergeIndex(kvs_, user, now_micros_());
    lock.lock();
  }
}

}  // namespace penncloud::mail
