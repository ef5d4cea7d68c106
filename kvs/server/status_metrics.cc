#include "kvs/server/status_metrics.h"

#include <chrono>
#include <memory>

#include "absl/strings/numbers.h"
#include "common/grpc_tls.h"
#include "common/metrics.h"
#include "grpcpp/grpcpp.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::kvs::server {
namespace {

struct Gauges {
  metrics::GaugeFamily& up = metrics::Default().Gauge(
      "kvs_status_up", "1 if the replica answered its own Status call at this scrape");
  metrics::GaugeFamily& role = metrics::Default().Gauge(
      "kvs_paxos_role", "1 for the replica's current Paxos role, 0 for the others", {"role"});
  metrics::GaugeFamily& leader =
      metrics::Default().Gauge("kvs_paxos_is_leader", "1 while this replica leads its group");
  metrics::GaugeFamily& ballot_round =
      metrics::Default().Gauge("kvs_paxos_ballot_round", "round of the highest ballot seen");
  metrics::GaugeFamily& ballot_node =
      metrics::Default().Gauge("kvs_paxos_ballot_node", "replica id in the highest ballot seen");
  metrics::GaugeFamily& commit =
      metrics::Default().Gauge("kvs_paxos_commit_slot", "highest slot known chosen");
  metrics::GaugeFamily& applied =
      metrics::Default().Gauge("kvs_paxos_applied_slot", "highest slot applied to the store");
  metrics::GaugeFamily& apply_backlog = metrics::Default().Gauge(
      "kvs_apply_backlog_slots", "slots known chosen but not yet applied (commit - applied)");
  metrics::GaugeFamily& snapshot =
      metrics::Default().Gauge("kvs_snapshot_slot", "slot of the latest snapshot");
  metrics::GaugeFamily& log_slots =
      metrics::Default().Gauge("kvs_log_slots", "slots held in the log (after compaction)");
  metrics::GaugeFamily& log_bytes =
      metrics::Default().Gauge("kvs_log_bytes", "bytes of the log on disk");
  metrics::GaugeFamily& map_version = metrics::Default().Gauge(
      "kvs_cluster_map_version", "version of the applied cluster map (0: none)");
  metrics::GaugeFamily& sessions = metrics::Default().Gauge(
      "kvs_session_records", "records in the at-most-once table (docs/kvs.md)");
  metrics::GaugeFamily& watches = metrics::Default().Gauge(
      "kvs_watches_parked", "Watch calls the replica holds (docs/kvs.md \"Watches\")");
};

void Fill(Gauges& g, const pb::StatusResponse& s) {
  g.up.With().Set(1);
  for (const char* role : {"leader", "follower", "candidate", "learner"}) {
    g.role.With({role}).Set(s.role() == role ? 1 : 0);
  }
  g.leader.With().Set(s.role() == "leader" ? 1 : 0);
  // The ballot is "<round>.<node>".
  const std::string& ballot = s.ballot();
  size_t dot = ballot.find('.');
  double round = 0;
  double node = 0;
  if (dot != std::string::npos && absl::SimpleAtod(ballot.substr(0, dot), &round) &&
      absl::SimpleAtod(ballot.substr(dot + 1), &node)) {
    g.ballot_round.With().Set(round);
    g.ballot_node.With().Set(node);
  }
  g.commit.With().Set(static_cast<double>(s.commit_slot()));
  g.applied.With().Set(static_cast<double>(s.applied_slot()));
  g.apply_backlog.With().Set(s.commit_slot() > s.applied_slot()
                                 ? static_cast<double>(s.commit_slot() - s.applied_slot())
                                 : 0);
  g.snapshot.With().Set(static_cast<double>(s.snapshot_slot()));
  uint64_t slots = s.last_log_slot() >= s.first_log_slot() && s.last_log_slot() > 0
                       ? s.last_log_slot() - s.first_log_slot() + 1
                       : 0;
  g.log_slots.With().Set(static_cast<double>(slots));
  g.log_bytes.With().Set(static_cast<double>(s.log_bytes()));
  g.map_version.With().Set(static_cast<double>(s.map_version()));
  g.sessions.With().Set(static_cast<double>(s.session_records()));
  g.watches.With().Set(static_cast<double>(s.watches_parked()));
}

}  // namespace

void ExportStatusMetrics(const std::string& address) {
  auto gauges = std::make_shared<Gauges>();
  auto stub = std::shared_ptr<pb::KvsService::Stub>(
      pb::KvsService::NewStub(grpc::CreateChannel(address, tls::ChannelCredentials())));
  metrics::Default().OnCollect([gauges, stub] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    pb::StatusResponse response;
    if (stub->Status(&context, pb::StatusRequest(), &response).ok()) {
      Fill(*gauges, response);
    } else {
      gauges->up.With().Set(0);
    }
  });
}

}  // namespace penncloud::kvs::server
