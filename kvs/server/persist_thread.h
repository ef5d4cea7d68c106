// Runs the loop's synced writes (the log's fsyncs) on a thread of its own while the loop
// keeps polling its queue (docs/kvs.md, "Threads"). The loop still waits for the write
// before it goes on with the Ready, as the core's contract asks, but meanwhile it reads
// and checks the calls that arrive and answers peers' batches, so the next group commit is
// gathered while the disk works instead of after. Costs two thread wake-ups per fsync,
// not per call: a semaphore starts the write, and an alarm of this thread's own on the
// loop's queue tells the loop it is done. The two threads share no lock, so neither ever
// waits for the other to let one go (with the loop's shared wake and a mutex, the loop,
// woken, often blocked at once on a lock the persist thread still held: two more
// wake-ups per fsync).
#pragma once

#include <functional>
#include <semaphore>
#include <thread>

#include "grpcpp/alarm.h"
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
  class DoneTag final : public LoopTag {
   public:
    explicit DoneTag(PersistThread& t) : t_(t) {}
    void Proceed(bool) override { t_.done_ = true; }

   private:
    PersistThread& t_;
  };

  void Serve();

  LoopQueue& queue_;
  std::binary_semaphore start_{0};
  // Written before start_ is released, read after it is acquired.
  const std::function<void()>* work_ = nullptr;
  bool stop_ = false;
  grpc::Alarm alarm_;  // set by the persist thread once per write, with a past deadline
  DoneTag done_tag_{*this};
  bool done_ = false;  // the polling thread's
  std::thread thread_;
};

}  // namespace penncloud::kvs::server
