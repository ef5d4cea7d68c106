// Gathers the writes and reads that a ReplicaGroupClient's threads issue at the same time
// into KvsService.Batch calls to the leader (docs/kvs.md "Batches").
//
// A call goes out at once while fewer than `max_in_flight` batches of its kind (writes or
// reads) are on the wire; otherwise it waits in a queue, and the next batch to leave takes
// the whole queue. So a lone caller pays no delay, and under load one RPC carries many
// requests: the leader's per-RPC cost (and its threads' wake-ups) is paid once per batch
// instead of once per request. Writes and reads travel apart, so a read never waits for a
// write's disk round.
//
// The batch is only a first attempt. An item the leader did not settle (the RPC failed,
// the replica was not the leader, the item's answer asks for a retry) is handed back, and
// the caller retries it alone with the client's usual leader search and backoff, under the
// same (session, seq), so the replicas still apply it at most once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::kvs {

struct BatchItem {
  // Exactly one of `write` / `get` is set. The request is lent to the batch while it is on
  // the wire and given back unchanged.
  pb::WriteRequest* write = nullptr;
  pb::WriteResponse* write_response = nullptr;
  pb::GetRequest* get = nullptr;
  pb::GetResponse* get_response = nullptr;

  // The leader answered the item: `status` is what a call of its own would have returned
  // and the response is filled (it may still carry a not-leader hint).
  bool answered = false;
  grpc::Status status;
  // The batch carrying the item failed on the wire (timeout, lost connection): a write may
  // or may not have reached the leader's log.
  bool in_doubt = false;
  // The batcher's own (under its lock): the batch carrying the item is back; and how the
  // item's caller is woken, alone (its batch is back, or there is room to send the queue).
  bool returned = false;
  std::condition_variable wake;
};

class Batcher {
 public:
  struct Options {
    int max_in_flight = 2;                    // per kind (writes, reads)
    size_t max_batch_bytes = 4 << 20;         // a single larger item still goes alone
    std::chrono::milliseconds timeout{1000};  // deadline of one Batch RPC
  };
  // `leader` returns the stub of the replica believed to lead (called once per batch).
  Batcher(std::function<pb::KvsService::Stub*()> leader, Options options);

  // Sends `item` in a batch (perhaps one another thread sends) and returns once that batch
  // is answered or failed. Without batching support at the server (an older kvs_server),
  // every later call returns at once, unanswered.
  void Run(BatchItem* item);

 private:
  struct Lane {
    std::vector<BatchItem*> queue;  // GUARDED_BY(mu_)
    int in_flight = 0;              // GUARDED_BY(mu_)
  };
  // Takes items from the front of `lane.queue` up to the byte bound (at least one).
  std::vector<BatchItem*> Take(Lane& lane);
  void Send(const std::vector<BatchItem*>& items);

  const std::function<pb::KvsService::Stub*()> leader_;
  const Options options_;
  std::atomic<bool> unsupported_{false};
  std::mutex mu_;
  Lane writes_, reads_;
};

}  // namespace penncloud::kvs
