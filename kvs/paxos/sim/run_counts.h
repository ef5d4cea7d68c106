// What a simulated run counts in either mode (one group or several), for the reports.
#pragma once

#include <cstdint>

#include "proto/kvs.pb.h"

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
  // Commands chosen, by operation (counted once per slot, by its first replica to apply).
  int64_t puts = 0, cputs = 0, deletes = 0, cdeletes = 0, sweeps = 0, other_commands = 0;
  int64_t sessions_expired = 0;  // at-most-once records the sweeps dropped
  int64_t expired_refusals = 0;  // writes refused as late retries of an expired session

  void CountOp(kvs::pb::Op op) {
    switch (op) {
      case kvs::pb::OP_PUT:
        ++puts;
        break;
      case kvs::pb::OP_CPUT:
        ++cputs;
        break;
      case kvs::pb::OP_DELETE:
        ++deletes;
        break;
      case kvs::pb::OP_CDELETE:
        ++cdeletes;
        break;
      case kvs::pb::OP_EXPIRE_SESSIONS:
        ++sweeps;
        break;
      default:
        ++other_commands;
        break;
    }
  }

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
    puts += o.puts;
    cputs += o.cputs;
    deletes += o.deletes;
    cdeletes += o.cdeletes;
    sweeps += o.sweeps;
    other_commands += o.other_commands;
    sessions_expired += o.sessions_expired;
    expired_refusals += o.expired_refusals;
    return *this;
  }
};

}  // namespace penncloud::paxos::sim
