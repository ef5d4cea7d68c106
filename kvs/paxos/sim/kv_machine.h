// The single-group simulator's replicated state machine: the replica server's own
// (kvs/machine/state_machine.h) on the memory store, so the simulator checks the rules that
// serve users (at-most-once, CPUT/CDELETE, session expiry) under every fault it injects.
// Commands are serialized pb::Command, as in the server's log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kvs/machine/memory_store.h"
#include "kvs/machine/state_machine.h"
#include "proto/kvs.pb.h"

namespace penncloud::paxos::sim {

class KvMachine {
 public:
  KvMachine();

  // Applies one command (a command that does not parse does nothing, as in the server).
  kvs::machine::ApplyOutcome Apply(const std::string& command);
  std::optional<std::string> Get(const std::string& row, const std::string& column) const;
  // The at-most-once table's clock (the leader's expiry sweeps start from it).
  const kvs::pb::SessionClock& clock() const { return machine_.SessionClockNow(); }
  uint64_t session_records() const { return machine_.SessionRecords(); }
  // A fingerprint of the whole state (cells, at-most-once table, meta).
  uint64_t Digest() const;

 private:
  kvs::machine::MemoryStore store_;
  kvs::machine::StateMachine machine_;
};

}  // namespace penncloud::paxos::sim
