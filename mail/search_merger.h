// Merges users' indexes (search_merge.h) on a thread of its own, so the process that
// delivers mail keeps each user's pending docs few: queries then read little, and the first
// search of a mailbox that took much mail never has to fold all of it.
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

#include "kvs/client/client.h"

namespace penncloud::mail {

class BackgroundMerger {
 public:
  // Merges a user's index after every `every` deliveries this process made to it.
  BackgroundMerger(kvs::Client& kvs, std::function<int64_t()> now_micros, int every);
  // Finishes the merge under way, if any; the queued ones are dropped (queries merge).
  ~BackgroundMerger();

  // Counts a delivery to `user`'s index.
  void Delivered(std::string_view user);

 private:
  void Loop();

  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;
  const int every_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, int, std::less<>> counts_;  // GUARDED_BY(mu_)
  std::deque<std::string> queue_;                   // GUARDED_BY(mu_)
  std::set<std::string, std::less<>> queued_;       // GUARDED_BY(mu_)
  bool stopping_ = false;                           // GUARDED_BY(mu_)
  std::thread thread_;  // started by the first merge; GUARDED_BY(mu_) until then
};

}  // namespace penncloud::mail
