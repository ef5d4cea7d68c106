// One way to handle a Ready (node.h, "The Ready contract"), shared by the replica server
// (kvs/server) and the simulator's harness (kvs/paxos/sim), so the simulator checks the
// order of persist, send and apply that the server uses:
//
//   1. install the snapshot, if any;
//   2. send the leader's own ACCEPTs at once: their ballot was made durable before its
//      PREPARE went out, a slot is chosen by a majority whether or not the leader's own
//      copy is among them, and the leader counts its own acceptance only in a later Ready
//      (after this one's persist), so the followers' fsyncs overlap the leader's;
//   3. on a leader, apply the committed entries and release the reads now if every
//      committed entry was made durable by an earlier Ready (always so on a leader): the
//      replies then wait for no disk round that concerns only newer slots;
//   4. persist the entries and the hard state;
//   5. send every other message (each vouches for state on disk);
//   6. otherwise apply and release reads now (a follower always: nobody waits for its
//      apply, and its ACCEPTEDs, which the leader's callers wait for, left in step 5);
//   7. answer failed reads and dropped proposals; Advance.
//
// Any hook may stop the handling at once (a simulated crash, or a replica that cannot go
// on): then nothing later happens, Advance included.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kvs/paxos/node.h"

namespace penncloud::paxos {

class ReadyHooks {
 public:
  virtual ~ReadyHooks() = default;
  // Each returns false to stop handling this Ready.
  virtual bool InstallSnapshot(const SnapshotMeta& meta) = 0;
  virtual bool Persist(const std::vector<EntryPtr>& entries,
                       const std::optional<HardState>& hard_state) = 0;
  virtual bool Send(Message message) = 0;
  virtual bool Apply(const Entry& entry) = 0;
  // A read whose index is applied; false stops.
  virtual bool ReleaseRead(const ReadState& read) = 0;
  virtual void FailRead(uint64_t id) = 0;
  virtual void Dropped(const std::string& command) = 0;
};

// Takes one Ready from `node` and handles it in the order above; false if a hook stopped
// it (Advance was not called).
bool HandleReady(Node& node, NodeId self, ReadyHooks& hooks);

}  // namespace penncloud::paxos
