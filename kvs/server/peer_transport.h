// Sends Paxos messages to the other replicas. Each peer has at most one PeerBatch RPC in
// flight; while it is, the next batch accumulates (batching grows with load; no message
// waits behind a timer). The RPCs complete on the loop's queue (loop_queue.h): an idle
// peer's batch is sent from the loop's thread and the next one when the loop sees the
// previous complete, so no thread has to be woken between the loop and the wire.
// Delivery is best effort: a failed batch is dropped, and the consensus core resends what
// matters.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "kvs/server/loop_queue.h"
#include "kvs/server/queue_metrics.h"
#include "proto/kvs.grpc.pb.h"
#include "proto/paxos.pb.h"

namespace penncloud::kvs::server {

class PeerTransport {
 public:
  // `cq` is polled by the thread that calls Send (and outlives the transport).
  PeerTransport(uint64_t self, const std::map<uint64_t, std::string>& peers,
                grpc::CompletionQueue* cq);
  // Waits for the batches in flight: the queue must still be polled meanwhile.
  ~PeerTransport();

  void Send(paxos::Message message);
  // A stub for pulling a snapshot from `peer` (nullptr if unknown).
  pb::KvsPeer::Stub* Stub(uint64_t peer);
  // Starts sending to a replica added to the group (docs/sharding.md section 7). A known id
  // keeps its first address: ids are never reused for another replica.
  void AddPeer(uint64_t id, const std::string& address);

 private:
  struct Peer {
    explicit Peer(uint64_t peer_id) : id(peer_id), metrics(PeerQueue(peer_id)) {}
    const uint64_t id;
    const PeerQueueCells metrics;  // the queue's lengths on /metrics
    std::unique_ptr<pb::KvsPeer::Stub> stub;
    std::mutex mu;
    std::condition_variable idle_cv;    // signalled when in_flight turns false
    std::vector<paxos::Message> queue;  // GUARDED_BY(mu)
    bool in_flight = false;             // GUARDED_BY(mu): an RPC to this peer is running
  };
  struct Call;
  // Sends `messages` (and whatever does not fit goes back to the queue's front) in one
  // RPC. Called with in_flight set by the caller, and without peer->mu held.
  void Start(Peer* peer, std::vector<paxos::Message> messages);
  void Done(Peer* peer, Call* call, const grpc::Status& status);

  Peer* Find(uint64_t id);

  const uint64_t self_;
  grpc::CompletionQueue* const cq_;
  std::mutex peers_mu_;  // guards the map; a Peer lives as long as the transport
  std::map<uint64_t, std::unique_ptr<Peer>> peers_;
  std::atomic<bool> stop_{false};
};

}  // namespace penncloud::kvs::server
