// Paxos traffic for /metrics: messages sent and received by type. An ACCEPT without
// entries is the leader's heartbeat and is counted as HEARTBEAT, so an operator sees
// heartbeats flowing (and their absence as elections: the ballot gauge moving).
#pragma once

#include "kvs/paxos/node.h"

namespace penncloud::kvs::server {

enum class Direction { kSent = 0, kReceived = 1 };

// Cheap enough for every message: the counters are looked up once, at first use.
void CountPaxosMessage(Direction direction, const paxos::Message& message);

// A message the core refused to step (docs/paxos.md, "Messages a replica drops").
void CountDroppedMessage(paxos::DropReason reason);

}  // namespace penncloud::kvs::server
