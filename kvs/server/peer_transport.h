// Sends Paxos messages to the other replicas. One sender thread per peer drains that
// peer's queue into one PeerBatch per RPC, so while an RPC is in flight the next batch
// accumulates (batching grows with load; no message waits behind a timer). Delivery is
// best effort: a failed batch is dropped, and the consensus core resends what matters.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proto/kvs.grpc.pb.h"
#include "proto/paxos.pb.h"

namespace penncloud::kvs::server {

class PeerTransport {
 public:
  PeerTransport(uint64_t self, const std::map<uint64_t, std::string>& peers);
  ~PeerTransport();

  void Send(paxos::Message message);
  // A stub for pulling a snapshot from `peer` (nullptr if unknown).
  pb::KvsPeer::Stub* Stub(uint64_t peer);

 private:
  struct Peer {
    uint64_t id = 0;
    std::unique_ptr<pb::KvsPeer::Stub> stub;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<paxos::Message> queue;  // GUARDED_BY(mu)
    bool sleeping = false;              // GUARDED_BY(mu): the sender waits on cv
    std::thread thread;
  };
  void Run(Peer* peer);

  const uint64_t self_;
  std::map<uint64_t, std::unique_ptr<Peer>> peers_;
  std::atomic<bool> stop_{false};
};

}  // namespace penncloud::kvs::server
