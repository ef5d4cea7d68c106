// A simulated replica: a Multi-Paxos core, the disk it persists to (only what a Ready made
// durable survives a crash), its state machine, and the requests it still owes an answer;
// and what the harness keeps per replica group.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "kvs/paxos/node.h"
#include "kvs/paxos/sim/event_queue.h"
#include "kvs/paxos/sim/slot_ledger.h"

namespace penncloud::paxos::sim {

template <class Machine>
struct Disk {
  HardState hard_state;
  std::map<Slot, Entry> entries;
  SnapshotMeta snapshot;
  std::shared_ptr<const Machine> snapshot_data;  // the state machine at snapshot.slot()
};

// (client, sequence number) of a write: what a command carries to find its caller again.
using WriteKey = std::pair<uint64_t, uint64_t>;

template <class Machine, class Request>
struct Replica {
  int group = 0;  // index of its group
  NodeId id = 0;  // Paxos id within the group
  bool up = true;
  int restarts = 0;
  int64_t tick_period = kTick;  // differs per replica under clock drift
  Slot snapshot_every = 20;
  std::unique_ptr<Node> node;
  Disk<Machine> disk;
  Machine sm;
  Slot applied = 0;
  bool ready_scheduled = false;
  uint64_t epoch = 0;  // bumps on crash: stale timers of a crashed incarnation are ignored
  std::map<Slot, std::shared_ptr<const Machine>> incoming_snapshots;
  std::map<WriteKey, Request> pending_writes;  // proposed here, answered once applied
  std::map<uint64_t, Request> pending_reads;   // by read id
};

struct ReplicaGroup {
  std::vector<int> nodes;    // replica indices, by Paxos id - 1
  std::set<NodeId> retired;  // replaced: stopped for good
  SlotLedger ledger;
  std::optional<NodeId> last_leader;
};

}  // namespace penncloud::paxos::sim
