#include "mail/search_concurrency.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace penncloud::mail {

absl::Status ForEachConcurrently(size_t n, size_t threads,
                                 const std::function<absl::Status(size_t)>& op) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  absl::Status first;  // GUARDED_BY(mu)
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      absl::Status s = op(i);
      if (s.ok()) continue;
      std::lock_guard<std::mutex> lock(mu);
      if (first.ok()) first = std::move(s);
    }
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < std::min(n, threads); ++t) helpers.emplace_back(work);
  work();
  for (auto& t : helpers) t.join();
  return first;
}

}  // namespace penncloud::mail
