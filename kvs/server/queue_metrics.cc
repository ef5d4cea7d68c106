#include "kvs/server/queue_metrics.h"

#include <string>

namespace penncloud::kvs::server {

ProposalQueueGauges& ProposalQueue() {
  static ProposalQueueGauges gauges = [] {
    metrics::GaugeFamily& family = metrics::Default().Gauge(
        "kvs_proposal_queue_length",
        "client writes waiting for the replica loop (stage=waiting) or proposed and not yet "
        "chosen (stage=proposed)",
        {"stage"});
    return ProposalQueueGauges{family.With({"waiting"}), family.With({"proposed"})};
  }();
  return gauges;
}

PeerQueueCells PeerQueue(uint64_t peer) {
  static metrics::GaugeFamily& queued = metrics::Default().Gauge(
      "kvs_peer_queue_length",
      "Paxos messages to a peer waiting for the batch in flight to that peer to finish", {"peer"});
  static metrics::GaugeFamily& in_flight =
      metrics::Default().Gauge("kvs_peer_in_flight_messages",
                               "Paxos messages in the batch RPC in flight to a peer", {"peer"});
  static metrics::CounterFamily& dropped = metrics::Default().Counter(
      "kvs_peer_dropped_messages_total",
      "Paxos messages to a peer dropped because its queue was full (the core resends)", {"peer"});
  static metrics::CounterFamily& batches = metrics::Default().Counter(
      "kvs_peer_batches_total", "batch RPCs to a peer by result (ok, failed)", {"peer", "result"});
  const std::string id = std::to_string(peer);
  return PeerQueueCells{queued.With({id}), in_flight.With({id}), dropped.With({id}),
                        batches.With({id, "ok"}), batches.With({id, "failed"})};
}

}  // namespace penncloud::kvs::server
