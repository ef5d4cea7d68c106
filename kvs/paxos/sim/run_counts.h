// What a simulated run counts in either mode (one group or several), for the reports.
#pragma once

#include <cstdint>

namespace penncloud::paxos::sim {

struct RunCounts {
  int64_t ops_completed = 0;
  int64_t ops_incomplete = 0;  // the client gave up: the outcome is unknown
  int64_t messages = 0;        // between replicas
  int64_t crashes = 0;
  int64_t partitions = 0;
  int64_t snapshots_installed = 0;
  int64_t leader_changes = 0;
  int64_t reconfigs = 0;      // membership changes proposed
  int64_t garbage = 0;        // bad messages the garbage sender delivered to a core
  int64_t garbage_authn = 0;  // ... and those only the server's certificate check stops
  // Messages of cores dropped as from a non-member (a removed replica still talking).
  int64_t honest_not_member = 0;

  RunCounts& operator+=(const RunCounts& o) {
    ops_completed += o.ops_completed;
    ops_incomplete += o.ops_incomplete;
    messages += o.messages;
    crashes += o.crashes;
    partitions += o.partitions;
    snapshots_installed += o.snapshots_installed;
    leader_changes += o.leader_changes;
    reconfigs += o.reconfigs;
    garbage += o.garbage;
    garbage_authn += o.garbage_authn;
    honest_not_member += o.honest_not_member;
    return *this;
  }
};

}  // namespace penncloud::paxos::sim
