// The writes this replica proposed, waiting for their slot to be applied (the closures of
// a replicated log's apply queue). A write is answered by the outcome of the command that
// carries its (session, seq) once that command is applied, in the order the copies were
// proposed (a client's retry to the same leader waits beside its first try); or it fails
// when the core drops it, leadership is lost, its deadline passes or the replica stops.
// Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "grpcpp/grpcpp.h"
#include "kvs/machine/state_machine.h"
#include "kvs/server/pending_call.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::server {

// What a client is told about its write, from the outcome of its command: OK (with the
// CPUT/CDELETE verdict in the response), or why it was not applied (docs/kvs.md).
grpc::Status WriteAnswer(const machine::ApplyOutcome& outcome, uint64_t group);

class ApplyQueue {
 public:
  void Add(uint64_t session, uint64_t seq, PendingWrite write);
  // The command was applied with `outcome`: answers every write waiting for it.
  void Applied(const pb::Command& command, const machine::ApplyOutcome& outcome, uint64_t group);
  // The core dropped the command (this replica is not the leader): each waiting write gets
  // a leader hint from `fill_hint`.
  void Dropped(uint64_t session, uint64_t seq,
               const std::function<void(pb::LeaderHint*)>& fill_hint);
  // Fails the writes whose deadline is not after `now`.
  void Expire(std::chrono::steady_clock::time_point now);
  void FailAll(const grpc::Status& status);

  bool empty() const { return writes_.empty(); }
  size_t size() const { return writes_.size(); }  // distinct (session, seq)

 private:
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, std::vector<PendingWrite>> writes_;
};

}  // namespace penncloud::kvs::server
