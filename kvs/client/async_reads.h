// The reads behind ReplicaGroupClient::StartGet: like the Batcher's reads, the calls made
// at the same time share KvsService.Batch calls to the leader (at most `max_in_flight` on
// the wire, the rest queued for the next to leave), but no caller's thread waits. Batches
// go out through gRPC's callback API, and each read's `done` runs on the gRPC thread that
// received its batch's answer. A thread waiting on each read cost the frontend's GET
// /api/me three to four context switches (docs/web.md).
//
// Only a first attempt, like the Batcher: what the leader did not answer comes back
// unanswered, and the caller retries it with its usual leader search and backoff.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::kvs {

class AsyncReads {
 public:
  struct Options {
    int max_in_flight = 2;
    size_t max_batch_bytes = 4 << 20;  // a single larger read still goes alone
    std::chrono::milliseconds timeout{1000};
  };
  // How one read ended. `answered`: the leader (or whoever received the batch) answered the
  // item, with `status` and `response` as a call of its own would have had them; otherwise
  // the batch failed on the wire.
  struct Result {
    bool answered = false;
    grpc::Status status;
    pb::GetResponse response;
  };
  using Done = std::function<void(Result)>;

  // `leader` returns the stub of the replica believed to lead (called once per batch).
  AsyncReads(std::function<pb::KvsService::Stub*()> leader, Options options);
  // Waits for the batches on the wire to end (each within its timeout): their callbacks
  // use this object.
  ~AsyncReads();
  AsyncReads(const AsyncReads&) = delete;
  AsyncReads& operator=(const AsyncReads&) = delete;

  // `done` must not block: it runs on a gRPC thread, which then sends the next batch.
  void Start(pb::GetRequest request, Done done);

 private:
  struct Queued {
    pb::GetRequest request;
    Done done;
  };
  struct Flight;

  // REQUIRES: mu_ held and the queue not empty. Takes reads from its front up to the byte
  // bound (at least one).
  std::vector<Queued> TakeLocked();
  void Send(std::vector<Queued> reads);
  void Finish(Flight* flight, const grpc::Status& status);

  const std::function<pb::KvsService::Stub*()> leader_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable idle_;  // in_flight_ fell to 0
  std::vector<Queued> queue_;     // GUARDED_BY(mu_)
  int in_flight_ = 0;             // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs
