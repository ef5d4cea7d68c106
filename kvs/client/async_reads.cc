#include "kvs/client/async_reads.h"

#include <memory>

namespace penncloud::kvs {

// One Batch call on the wire, owned by its callback.
struct AsyncReads::Flight {
  grpc::ClientContext context;
  pb::BatchRequest request;
  pb::BatchResponse response;
  std::vector<Done> dones;  // one per read, in request order
};

AsyncReads::AsyncReads(std::function<pb::KvsService::Stub*()> leader, Options options)
    : leader_(std::move(leader)), options_(options) {}

AsyncReads::~AsyncReads() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return in_flight_ == 0; });
}

void AsyncReads::Start(pb::GetRequest request, Done done) {
  std::vector<Queued> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({std::move(request), std::move(done)});
    if (in_flight_ >= options_.max_in_flight) return;  // leaves with the next answered batch
    ++in_flight_;
    batch = TakeLocked();
  }
  Send(std::move(batch));
}

std::vector<AsyncReads::Queued> AsyncReads::TakeLocked() {
  size_t bytes = 0;
  size_t n = 0;
  for (; n < queue_.size(); ++n) {
    const size_t size = queue_[n].request.ByteSizeLong();
    if (n > 0 && bytes + size > options_.max_batch_bytes) break;
    bytes += size;
  }
  std::vector<Queued> batch(std::make_move_iterator(queue_.begin()),
                            std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
  return batch;
}

void AsyncReads::Send(std::vector<Queued> reads) {
  auto flight = std::make_unique<Flight>();
  flight->context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  flight->dones.reserve(reads.size());
  for (Queued& read : reads) {
    flight->request.add_gets()->Swap(&read.request);
    flight->dones.push_back(std::move(read.done));
  }
  Flight* on_wire = flight.release();
  leader_()->async()->Batch(&on_wire->context, &on_wire->request, &on_wire->response,
                            [this, on_wire](grpc::Status status) { Finish(on_wire, status); });
}

void AsyncReads::Finish(Flight* on_wire, const grpc::Status& status) {
  std::unique_ptr<Flight> flight(on_wire);
  pb::BatchResponse& response = flight->response;
  // A replica that does not lead answers no item; the caller's retry follows its hint.
  const bool answered = status.ok() && !response.hint().not_leader();
  for (size_t i = 0; i < flight->dones.size(); ++i) {
    const int item = static_cast<int>(i);
    Result result;
    if (answered && item < response.gets_size() && item < response.get_status_size()) {
      const pb::ItemStatus& s = response.get_status(item);
      result.answered = true;
      result.status = grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
      result.response.Swap(response.mutable_gets(item));
    }
    flight->dones[i](std::move(result));
  }
  // The call's context (and its hold on the channel) goes before the destructor may return:
  // once in_flight_ falls to 0 the owner may destroy the channel, whose last reference must
  // not then be dropped here, on gRPC's own callback thread (gRPC asserts on its refcount).
  flight.reset();
  // The slot on the wire passes to what queued meanwhile.
  std::vector<Queued> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!queue_.empty()) {
      next = TakeLocked();
    } else if (--in_flight_ == 0) {
      idle_.notify_all();
    }
  }
  if (!next.empty()) Send(std::move(next));
}

}  // namespace penncloud::kvs
