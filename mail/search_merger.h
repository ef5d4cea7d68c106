// Keeps users' indexes in shape on a thread of its own: merges them (search_merge.h), so
// the process that delivers mail keeps each user's pending docs few (queries then read
// little, and the first search of a mailbox that took much mail never has to fold all of
// it), and deletes what older layouts left (search_index.h), a bounded batch at a time,
// once per user and process, the first time the process works on that user's index.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "kvs/client/client.h"

namespace penncloud::mail {

// Layout 1's posting cells deleted per pass; then the other users' work goes first.
inline constexpr int kSweepBatch = 1000;

class BackgroundMerger {
 public:
  BackgroundMerger(kvs::Client& kvs, std::function<int64_t()> now_micros);
  // Finishes the merge or sweep pass under way, if any; the queued ones are dropped
  // (queries merge, and the next process sweeps).
  ~BackgroundMerger();

  // From now on, merges a user's index after every `every` deliveries this process made
  // to it (0, the default: never; queries merge).
  void MergeEvery(int every);

  // Counts a delivery to `user`'s index.
  void Delivered(std::string_view user);
  // The process works on `user`'s index: the first time, its leftovers are swept.
  void Touched(std::string_view user);

 private:
  enum class Job { kMerge, kSweep };
  using Queued = std::pair<std::string, Job>;

  void Enqueue(std::string_view user, Job job);  // REQUIRES(mu_)
  void Loop();

  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;
  std::mutex mu_;
  std::condition_variable wake_;
  int every_ = 0;                                   // GUARDED_BY(mu_)
  std::map<std::string, int, std::less<>> counts_;  // GUARDED_BY(mu_)
  std::set<std::string, std::less<>> touched_;      // GUARDED_BY(mu_)
  std::deque<Queued> queue_;                        // GUARDED_BY(mu_)
  std::set<Queued> queued_;                         // GUARDED_BY(mu_)
  bool stopping_ = false;                           // GUARDED_BY(mu_)
  std::thread thread_;  // started by the first job; GUARDED_BY(mu_) until then
};

}  // namespace penncloud::mail
