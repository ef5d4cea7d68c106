#include "kvs/server/loop_queue.h"

#include <chrono>

namespace penncloud::kvs::server {
namespace {

// Tags run per Poll at most: the loop then gets to propose and persist what arrived.
constexpr int kMaxTagsPerPoll = 4096;

// gRPC rounds a deadline up to the next millisecond: "now" would block for up to 1 ms with
// nothing ready. A deadline already passed becomes one gRPC sees as passed.
gpr_timespec Monotonic(LoopQueue::Clock::time_point deadline) {
  const auto left = deadline - LoopQueue::Clock::now();
  if (left <= LoopQueue::Clock::duration::zero()) return gpr_inf_past(GPR_CLOCK_MONOTONIC);
  return gpr_time_add(
      gpr_now(GPR_CLOCK_MONOTONIC),
      gpr_time_from_micros(std::chrono::duration_cast<std::chrono::microseconds>(left).count(),
                           GPR_TIMESPAN));
}

}  // namespace

LoopQueue::LoopQueue(std::unique_ptr<grpc::ServerCompletionQueue> cq) : cq_(std::move(cq)) {}

LoopQueue::~LoopQueue() = default;

void LoopQueue::Poll(Clock::time_point deadline) {
  gpr_timespec wait = Monotonic(deadline);
  for (int n = 0; n < kMaxTagsPerPoll; ++n) {
    void* tag = nullptr;
    bool ok = false;
    if (cq_->AsyncNext(&tag, &ok, wait) != grpc::CompletionQueue::GOT_EVENT) return;
    static_cast<LoopTag*>(tag)->Proceed(ok);
    wait = gpr_inf_past(GPR_CLOCK_MONOTONIC);
  }
}

void LoopQueue::Wake() {
  std::lock_guard<std::mutex> lock(wake_mu_);
  if (wake_pending_ || closed_) return;
  wake_pending_ = true;
  // A deadline in the past fires at once. ("Now" would not: gRPC rounds deadlines up to the
  // next millisecond and leaves the alarm to its timer thread.)
  alarm_.Set(cq_.get(), gpr_inf_past(GPR_CLOCK_MONOTONIC), &wake_tag_);
}

void LoopQueue::WakeTag::Proceed(bool) {
  std::lock_guard<std::mutex> lock(q_.wake_mu_);
  q_.wake_pending_ = false;
}

void LoopQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    if (closed_) return;
    closed_.store(true, std::memory_order_release);
    if (wake_pending_) alarm_.Cancel();
  }
  cq_->Shutdown();
}

void LoopQueue::DrainClosed() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_->Next(&tag, &ok)) static_cast<LoopTag*>(tag)->Proceed(ok);
}

}  // namespace penncloud::kvs::server
