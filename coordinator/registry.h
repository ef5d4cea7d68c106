// The coordinator's table of nodes (frontends, SMTP and POP3 servers): who beat when, with
// what load, and which are healthy. No I/O and no clock of its own (time is passed in), so
// the health rules are unit-tested exactly.
//
// Health: a node is healthy while its last heartbeat is younger than `down_after`
// (default 3 s = three missed beats at the 1 s interval).
//
// Missed beats: a beat is counted missed once half an interval has passed after it was
// due, so the count grows while a node is silent (a frozen process shows up in the
// metrics before it is marked down) and is settled when its next beat arrives. Each miss
// adds to `coordinator_heartbeats_missed_total{kind,node}`. The proxy may also report a
// node it could not reach; such a node is skipped for `suspect_for` (default 2 s) unless a
// heartbeat from a restarted process (a new `started` time) arrives first. Nodes are never
// forgotten, so the admin console can show the down ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/certificate.h"

namespace penncloud::coordinator {

using Clock = std::chrono::steady_clock;

struct NodeLoad {
  int64_t in_flight = 0;
  double requests_per_second = 0;
  int64_t connections = 0;
  double p99_ms = 0;  // 0: not reported
};

struct NodeState {
  std::string kind;
  std::string address;
  std::string name;
  NodeLoad load;
  int64_t started_unix_ms = 0;
  std::string version;                              // as the node reports it ("" if it does not)
  std::optional<tls::CertificateInfo> certificate;  // what its heartbeats were signed with
  Clock::time_point last_beat;
  int64_t last_beat_unix_ms = 0;
  Clock::time_point suspect_until;
  bool healthy = false;           // as of the last Snapshot/Healthy call
  int64_t missed_beats = 0;       // over the node's whole life in this registry
  int64_t missed_in_silence = 0;  // since the last beat (already in missed_beats)
  bool beaten = false;            // last_beat is set
};

struct RegistryOptions {
  std::chrono::milliseconds interval{1000};  // nodes are told to beat this often
  std::chrono::milliseconds down_after{3000};
  std::chrono::milliseconds suspect_for{2000};
};

class Registry {
 public:
  explicit Registry(RegistryOptions options = {}) : options_(options) {}

  // Records a heartbeat. Returns true if the node was down (or new) and is now up.
  bool Beat(const std::string& kind, const std::string& address, const std::string& name,
            const NodeLoad& load, int64_t started_unix_ms, Clock::time_point now,
            int64_t now_unix_ms);

  // Records the build version a node reports in its heartbeats.
  void SetVersion(const std::string& address, const std::string& version);
  void SetCertificate(const std::string& address, const tls::CertificateInfo& certificate);

  // The proxy could not reach `address`: skip it for a while.
  void MarkSuspect(const std::string& address, Clock::time_point now);

  // Addresses of healthy nodes of `kind`, with their last reported load.
  std::vector<std::pair<std::string, NodeLoad>> Healthy(const std::string& kind,
                                                        Clock::time_point now);

  // Every node ever seen ("" = all kinds), health evaluated at `now`; logs transitions to
  // down as a side effect.
  std::vector<NodeState> Snapshot(const std::string& kind, Clock::time_point now);

  const RegistryOptions& options() const { return options_; }

  // Publishes `coordinator_nodes_up{kind}` and `coordinator_nodes_known{kind}`, evaluated
  // at each scrape. Call once per process; this registry must outlive the scrapes.
  void ExportGauges();

 private:
  bool IsHealthy(const NodeState& node, Clock::time_point now) const;
  void UpdateHealth(NodeState& node, Clock::time_point now);      // REQUIRES: mu_ held
  void CountMissedBeats(NodeState& node, Clock::time_point now);  // REQUIRES: mu_ held

  const RegistryOptions options_;
  std::mutex mu_;
  std::map<std::string, NodeState> nodes_;  // by address; GUARDED_BY(mu_)
};

}  // namespace penncloud::coordinator
