// The replica loop's one completion queue (docs/kvs.md, "Threads"). Every call the replica
// serves and every peer batch it sends completes here, and only the thread that runs the
// loop polls it. gRPC does its socket work on the threads that poll, so a request goes
// from the socket through the core to its answer on one thread: no hand-off, and no
// wake-up of another thread, between them. (With gRPC's callback API, threads of its own
// polled and took turns at every event; on two busy cores each turn was a context switch,
// and they cost the leader as much CPU as its loop.)
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"

namespace penncloud::kvs::server {

// What the queue hands back: a call that arrived, an answer that went out, a peer batch
// that was delivered. Runs on the thread polling the queue.
class LoopTag {
 public:
  virtual ~LoopTag() = default;
  // `ok` is gRPC's word on the operation (false: failed, cancelled, or shutting down).
  virtual void Proceed(bool ok) = 0;
};

class LoopQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LoopQueue(std::unique_ptr<grpc::ServerCompletionQueue> cq);
  ~LoopQueue();

  grpc::ServerCompletionQueue* cq() { return cq_.get(); }

  // Runs what completes: waits until `deadline` for the first tag, then takes those already
  // done without waiting (a bounded number), and returns. The polling thread only.
  void Poll(Clock::time_point deadline);
  // Any thread: a Poll waiting now returns soon (work arrived outside the queue).
  void Wake();
  // The polling thread, once nothing but that thread can begin an operation on the queue:
  // shuts it down. From then on no operation may begin (callers ask closed()), and Wake is
  // a no-op.
  void Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // After Close: runs the tags of the operations begun before it, until there are none.
  void DrainClosed();

 private:
  class WakeTag final : public LoopTag {
   public:
    explicit WakeTag(LoopQueue& q) : q_(q) {}
    void Proceed(bool) override;

   private:
    LoopQueue& q_;
  };

  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  WakeTag wake_tag_{*this};
  std::mutex wake_mu_;
  grpc::Alarm alarm_;                // GUARDED_BY(wake_mu_)
  bool wake_pending_ = false;        // GUARDED_BY(wake_mu_): alarm_ is set and not yet run
  std::atomic<bool> closed_{false};  // written under wake_mu_
};

}  // namespace penncloud::kvs::server
