// A seeded, single-threaded simulation of one replica group: 3 or 5 Multi-Paxos cores,
// each glued to a simulated disk and the replica server's own state machine (kvs/machine,
// on memory) by the server's Ready driver (kvs/paxos/ready_driver.h), plus concurrent
// clients, over a network that loses, duplicates, delays and reorders messages, with
// partitions (also one-way), crash-restarts (everything not yet made durable is lost,
// including mid-Ready) and clock drift.
//
// Checked on every applied slot: no two replicas apply different values in one slot, every
// replica applies the slots in order, and its state after each slot (also after installing a
// snapshot) equals everyone else's at that slot. After the faults heal, every client
// operation must complete within a bound; at the end the client history must be
// linearizable (kvs/lincheck). The same seed gives the same run.
#pragma once

#include <cstdint>
#include <string>

#include "kvs/paxos/sim/run_counts.h"

namespace penncloud::paxos::sim {

struct SimOptions {
  uint64_t seed = 1;
  int replicas = 3;
  int chaos_ticks = 400;     // faults are injected during this many ticks
  int liveness_ticks = 400;  // after healing, every client must finish within this
  bool faults = true;
  bool garbage = true;  // the garbage sender (with the other faults)
  bool lincheck = true;
  bool verbose = false;  // trace leader changes, crashes, partitions to stderr
};

struct SimResult : RunCounts {
  bool ok = true;
  std::string failure;  // what went wrong, when !ok
  int64_t slots_chosen = 0;
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace penncloud::paxos::sim
