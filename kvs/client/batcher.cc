#include "kvs/client/batcher.h"

#include <algorithm>

namespace penncloud::kvs {

Batcher::Batcher(std::function<pb::KvsService::Stub*()> leader, Options options)
    : leader_(std::move(leader)), options_(options) {}

void Batcher::Run(BatchItem* item) {
  if (unsupported_.load(std::memory_order_relaxed)) return;
  Lane& lane = item->write != nullptr ? writes_ : reads_;
  std::unique_lock<std::mutex> lock(mu_);
  lane.queue.push_back(item);
  // A caller whose item is still queued when there is room on the wire sends the queue,
  // its own item and the others'. Each waiting caller is woken alone: when its batch is
  // back, or when it is its turn to send the queue (a batch came back and left room).
  // Waking every waiter of the lane instead cost several thread wake-ups per call.
  while (!item->returned) {
    const bool queued = std::find(lane.queue.begin(), lane.queue.end(), item) != lane.queue.end();
    if (!queued || lane.in_flight >= options_.max_in_flight) {
      item->wake.wait(lock);
      continue;
    }
    std::vector<BatchItem*> batch = Take(lane);
    ++lane.in_flight;
    lock.unlock();
    Send(batch);
    lock.lock();
    --lane.in_flight;
    for (BatchItem* b : batch) {
      b->returned = true;
      if (b != item) b->wake.notify_one();
    }
    // Room on the wire again: the first caller still queued sends what waits.
    if (!lane.queue.empty() && lane.queue.front() != item) lane.queue.front()->wake.notify_one();
  }
}

std::vector<BatchItem*> Batcher::Take(Lane& lane) {
  size_t bytes = 0;
  size_t n = 0;
  for (; n < lane.queue.size(); ++n) {
    const BatchItem* b = lane.queue[n];
    const size_t size = b->write != nullptr ? b->write->ByteSizeLong() : b->get->ByteSizeLong();
    if (n > 0 && bytes + size > options_.max_batch_bytes) break;
    bytes += size;
  }
  std::vector<BatchItem*> batch(lane.queue.begin(), lane.queue.begin() + n);
  lane.queue.erase(lane.queue.begin(), lane.queue.begin() + n);
  return batch;
}

void Batcher::Send(const std::vector<BatchItem*>& items) {
  pb::BatchRequest request;
  for (BatchItem* b : items) {
    if (b->write != nullptr) {
      request.add_writes()->Swap(b->write);
    } else {
      request.add_gets()->Swap(b->get);
    }
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  pb::BatchResponse response;
  const grpc::Status status = leader_()->Batch(&context, request, &response);
  int w = 0;
  int g = 0;
  for (BatchItem* b : items) {
    const int i = b->write != nullptr ? w++ : g++;
    if (b->write != nullptr) {
      b->write->Swap(request.mutable_writes(i));
    } else {
      b->get->Swap(request.mutable_gets(i));
    }
    if (!status.ok()) {
      b->in_doubt = true;
      continue;
    }
    const bool has_answer = b->write != nullptr
                                ? i < response.writes_size() && i < response.write_status_size()
                                : i < response.gets_size() && i < response.get_status_size();
    if (response.hint().not_leader() || !has_answer) continue;
    const pb::ItemStatus& s =
        b->write != nullptr ? response.write_status(i) : response.get_status(i);
    if (b->write != nullptr) {
      b->write_response->Swap(response.mutable_writes(i));
    } else {
      b->get_response->Swap(response.mutable_gets(i));
    }
    b->status = grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
    b->answered = true;
  }
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    unsupported_.store(true, std::memory_order_relaxed);
  }
}

}  // namespace penncloud::kvs
