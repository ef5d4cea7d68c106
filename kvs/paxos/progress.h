// What the leader knows of each peer (braft's "replicator"): how far it has accepted in the
// leader's ballot, what was sent, and whether it is being sent a snapshot.
#pragma once

#include "kvs/paxos/node.h"

namespace penncloud::paxos {

struct Progress {
  NodeId id = 0;
  Slot match = 0;   // accepted every slot up to here (chosen ones, or in our ballot)
  Slot sent = 0;    // highest slot sent since the last probe
  Slot commit = 0;  // its commit index, as it last said
  uint64_t acked_round = 0;
  int64_t last_ack_tick = -1;
  Slot probe_match = 0;  // match at the previous heartbeat reply (stalled => resend)
  bool member = true;    // still in a membership governing slots after commit
  bool snapshotting = false;
  int64_t snapshot_sent_tick = 0;
};

}  // namespace penncloud::paxos
