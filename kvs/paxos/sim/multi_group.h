// The simulator's multi-group mode: a config group and several data groups, each a set of
// real Multi-Paxos cores driven exactly like the single-group simulator (simulated disk,
// the Ready contract, crash-restarts that lose what was not persisted), rows placed by the
// real hash ring and cluster map (kvs/shard), clients that cache the map and follow
// wrong-group answers, and a rebalancer that adds and removes groups by the range
// migration steps of docs/sharding.md section 6, each step a command in a group's log.
//
// Checked: agreement and identical states per slot within every group; no row is served by
// two groups at once (on the groups' chosen states, in the order the slots were chosen);
// after the faults heal the rebalance finishes and every client completes; every row is
// then served by exactly the group the final map names, and the client history plus a
// final read of every row from that group is linearizable (so no acknowledged write was
// lost across moves). The same seed gives the same run.
#pragma once

#include <cstdint>
#include <string>

#include "kvs/paxos/sim/run_counts.h"
#include "kvs/paxos/sim/sim_machine.h"

namespace penncloud::paxos::sim {

struct MultiOptions {
  uint64_t seed = 1;
  int groups = 2;    // data groups in the first map
  int replicas = 3;  // per group (3 or 5)
  int changes = 2;   // rebalances per run: add a group, remove one, add, ...
  // Faults are injected until the rebalance finished (plus up to 50 ticks), for at most
  // this many ticks.
  int chaos_ticks = 2000;
  // After healing, every client must finish its operation and two more within this; the
  // rebalance must store its next map within a third of it each time (no step stalls) and
  // finish within four times it (docs/paxos.md, "Liveness after heal").
  int liveness_ticks = 3000;
  // Each install is cut into 1..install_chunks INSTALL_CHUNKs (drawn per seed). Above 1
  // the simulator finds a late first chunk (reset) applied after the last one, which sends
  // the destination back to installing: see docs/paxos.md, "A finding".
  int install_chunks = 1;
  bool faults = true;
  bool garbage = true;  // the garbage sender (with the other faults)
  bool lincheck = true;
  bool verbose = false;
  Bug bug = Bug::kNone;
};

struct MultiResult : RunCounts {
  bool ok = true;
  std::string failure;
  int64_t replicas_replaced = 0;  // brand-new replicas that joined a group
  int64_t rebalancer_restarts = 0;
  int64_t map_versions = 0;
  int64_t migrations_done = 0;
  int64_t ranges_moved_in_chaos = 0;   // DONE recorded while faults were still injected
  int64_t rebalances_cut_by_heal = 0;  // runs whose rebalance was still going at the heal
  int64_t groups_added = 0;
  int64_t groups_removed = 0;
  int64_t wrong_group_answers = 0;
  // Over the seeds (the largest, not a sum): the longest wait for the next map after the
  // heal, and how long the rebalance still ran after the heal.
  int64_t max_stall_ticks = 0;
  int64_t max_rebalance_after_heal = 0;
};

MultiResult RunMultiGroup(const MultiOptions& options);

}  // namespace penncloud::paxos::sim
