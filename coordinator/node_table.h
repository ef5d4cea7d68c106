// One table of every node of every tier, as the admin console shows it: the coordinator
// itself, the frontends, SMTP and POP3 servers (heartbeat registry + launch records), and
// every replica of the config group and the data groups (cluster poller).
//
// Health: "stopped" when the node has a launch record whose process is not running (it
// was stopped from the console, or crashed); else "up" when it answers (a recent heartbeat,
// a Status reply in the last poll); else "down".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/certificate.h"
#include "coordinator/cluster_poller.h"
#include "coordinator/launcher.h"
#include "coordinator/registry.h"
#include "nlohmann/json.hpp"

namespace penncloud::coordinator {

struct NodeRow {
  std::string id;
  std::string tier;  // "coordinator", "frontend", "smtp", "pop3", "imap", "kvs"
  std::string name;
  std::string address;
  std::optional<std::string> group;
  std::optional<uint64_t> replica;
  std::optional<std::string> paxos_role;
  std::optional<std::string> ballot;
  std::optional<uint64_t> applied_slot;
  std::optional<uint64_t> commit_slot;
  std::optional<uint64_t> log_slots;
  std::optional<uint64_t> log_bytes;
  std::string health;  // "up", "down", "stopped"
  double requests_per_second = 0;
  std::optional<double> p99_ms;
  int64_t connections = 0;
  std::optional<int64_t> uptime_s;
  std::string version = "unknown";
  std::optional<tls::CertificateInfo> certificate;  // what it presents on internal gRPC
  std::optional<LaunchRecord> record;               // how to stop / start it, if known
  bool running = false;  // the record's process runs (with a record only)

  bool can_stop() const { return tier != "coordinator" && record && running; }
  bool can_start() const { return tier != "coordinator" && record && !running; }
};

nlohmann::json ToJson(const NodeRow& row, int64_t now_ms);

struct CoordinatorIdentity {
  std::string http_address;  // host:port of :8000
  int64_t started_unix_ms = 0;
  std::optional<tls::CertificateInfo> certificate;
};

class NodeTable {
 public:
  NodeTable(Registry* registry, ClusterPoller* poller, Launcher* launcher, CoordinatorIdentity self)
      : registry_(registry), poller_(poller), launcher_(launcher), self_(std::move(self)) {}

  // Every node, coordinator first, then services by id, then KVS groups in poll order.
  std::vector<NodeRow> Rows(const ClusterView& view, int64_t now_ms) const;
  std::optional<NodeRow> Find(const std::string& id, int64_t now_ms) const;

  ClusterPoller* poller() const { return poller_; }

 private:
  Registry* const registry_;
  ClusterPoller* const poller_;
  Launcher* const launcher_;
  const CoordinatorIdentity self_;
};

}  // namespace penncloud::coordinator
