// Runs the loop's synced writes (the log's fsyncs) on a thread of its own while the loop
// keeps polling its queue (docs/kvs.md, "Threads"). The loop still waits for the write
// before it goes on with the Ready, as the core's contract asks, but meanwhile it reads
// and checks the calls that arrive and answers peers' batches, so the next group commit is
// gathered while the disk works instead of after. Costs two thread wake-ups per fsync,
// not per call.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "kvs/server/loop_queue.h"

namespace penncloud::kvs::server {

class PersistThread {
 public:
  explicit PersistThread(LoopQueue& queue);
  ~PersistThread();

  // The polling thread: runs `write` on the persist thread and polls the queue until it
  // returned. The tags run meanwhile must not touch what `write` uses.
  void Run(const std::function<void()>& write);

 private:
  void Serve();

  LoopQueue& queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* work_ = nullptr;  // GUARDED_BY(mu_)
  bool done_ = false;                            // GUARDED_BY(mu_)
  bool stop_ = false;                            // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace penncloud::kvs::server
