// The replica's queues on /metrics (docs/operations.md): writes waiting for the loop and
// writes proposed but not yet chosen, and per peer the Paxos messages waiting to be sent,
// in flight, and dropped. A queue that keeps growing is the first sign of a slow disk, a
// slow or stopped peer, or more load than the group can take.
#pragma once

#include <cstdint>

#include "common/metrics.h"

namespace penncloud::kvs::server {

struct ProposalQueueGauges {
  // Client writes handed to the loop and not yet given to the consensus core.
  metrics::GaugeCell& waiting;
  // Writes given to the core whose slot is not yet chosen (or, while the window is full,
  // not yet assigned): the leader's writes in flight.
  metrics::GaugeCell& proposed;
};
ProposalQueueGauges& ProposalQueue();

struct PeerQueueCells {
  metrics::GaugeCell& queued;     // waiting behind the batch in flight
  metrics::GaugeCell& in_flight;  // in the PeerBatch RPC in flight
  metrics::CounterCell& dropped;  // refused because the queue was full
  metrics::CounterCell& batches_ok;
  metrics::CounterCell& batches_failed;
};
PeerQueueCells PeerQueue(uint64_t peer);

}  // namespace penncloud::kvs::server
