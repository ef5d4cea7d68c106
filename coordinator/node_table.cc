#include "coordinator/node_table.h"

#include <algorithm>
#include <map>

#include "common/version.h"
#include "coordinator/node_id.h"

namespace penncloud::coordinator {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// Applies the launch record (if any) to `row`: a record whose process is gone means the
// node is stopped, whatever its last heartbeat or Status said.
void Attach(NodeRow& row, std::map<std::string, LaunchRecord>& records) {
  auto it = records.find(row.tier + " " + row.address);
  if (it == records.end()) return;
  row.record = std::move(it->second);
  records.erase(it);
  row.running = Launcher::IsRunning(*row.record);
  if (!row.running) {
    row.health = "stopped";
    row.uptime_s.reset();
  }
}

// A certificate that expires within this many days is flagged in the console, early enough
// to rotate it (docs/operations.md) before peers start refusing the node.
constexpr int64_t kExpiringSoonDays = 30;

nlohmann::json CertificateJson(const std::optional<tls::CertificateInfo>& c, int64_t now_ms) {
  if (!c) return nullptr;
  const int64_t days_left = (c->not_after_unix * 1000 - now_ms) / (86400 * 1000);
  return {{"identity", c->identity.Path()},
          {"expires_unix", c->not_after_unix},
          {"days_left", days_left},
          {"expiring_soon", days_left < kExpiringSoonDays}};
}

}  // namespace

nlohmann::json ToJson(const NodeRow& r, int64_t now_ms) {
  return {{"id", r.id},
          {"tier", r.tier},
          {"name", r.name},
          {"address", r.address},
          {"group", OrNull(r.group)},
          {"replica", OrNull(r.replica)},
          {"paxos_role", OrNull(r.paxos_role)},
          {"ballot", OrNull(r.ballot)},
          {"applied_slot", OrNull(r.applied_slot)},
          {"commit_slot", OrNull(r.commit_slot)},
          {"log_slots", OrNull(r.log_slots)},
          {"log_bytes", OrNull(r.log_bytes)},
          {"health", r.health},
          {"requests_per_second", r.requests_per_second},
          {"p99_ms", OrNull(r.p99_ms)},
          {"connections", r.connections},
          {"uptime_s", OrNull(r.uptime_s)},
          {"version", r.version},
          {"certificate", CertificateJson(r.certificate, now_ms)},
          {"can_stop", r.can_stop()},
          {"can_start", r.can_start()},
          {"pid", r.record && r.running ? nlohmann::json(r.record->pid) : nlohmann::json(nullptr)}};
}

std::vector<NodeRow> NodeTable::Rows(const ClusterView& view, int64_t now_ms) const {
  std::map<std::string, LaunchRecord> records;  // by "tier address"
  for (LaunchRecord& r : launcher_->Records()) {
    std::string key = r.tier + " " + r.address;
    records.emplace(std::move(key), std::move(r));
  }

  std::vector<NodeRow> rows;
  NodeRow self;
  self.id = "coordinator";
  self.tier = "coordinator";
  self.name = "coordinator";
  self.address = self_.http_address;
  self.health = "up";
  self.uptime_s = (now_ms - self_.started_unix_ms) / 1000;
  self.version = std::string(Version());
  self.certificate = self_.certificate;
  records.erase("coordinator " + self.address);
  rows.push_back(std::move(self));

  // Heartbeat nodes, then launch records of the same tiers that never beat to us.
  std::vector<NodeRow> services;
  for (const NodeState& n : registry_->Snapshot("", Clock::now())) {
    NodeRow row;
    row.id = ServiceNodeId(n.kind, n.address);
    row.tier = n.kind;
    row.name = n.name.empty() ? row.id : n.name;
    row.address = n.address;
    row.health = n.healthy ? "up" : "down";
    if (n.healthy) {
      row.requests_per_second = n.load.requests_per_second;
      row.connections = n.load.connections;
      if (n.load.p99_ms > 0) row.p99_ms = n.load.p99_ms;
      if (n.started_unix_ms > 0) row.uptime_s = (now_ms - n.started_unix_ms) / 1000;
    }
    if (!n.version.empty()) row.version = n.version;
    row.certificate = n.certificate;
    Attach(row, records);
    services.push_back(std::move(row));
  }
  for (auto& [key, record] : records) {
    if (record.tier != "frontend" && record.tier != "smtp" && record.tier != "pop3" &&
        record.tier != "imap") {
      continue;
    }
    NodeRow row;
    row.id = ServiceNodeId(record.tier, record.address);
    row.tier = record.tier;
    row.name = record.name;
    row.address = record.address;
    row.health = "down";
    services.push_back(std::move(row));
  }
  for (NodeRow& row : services) {
    if (!row.record) Attach(row, records);
  }
  std::sort(services.begin(), services.end(),
            [](const NodeRow& a, const NodeRow& b) { return a.id < b.id; });
  for (NodeRow& row : services) rows.push_back(std::move(row));

  for (const ReplicaView& r : view.replicas) {
    NodeRow row;
    row.id = KvsNodeId(r.group, r.replica);
    row.tier = "kvs";
    row.name = row.id;
    row.address = r.address;
    row.group = r.group;
    row.replica = r.replica;
    row.health = r.up ? "up" : "down";
    row.certificate = r.certificate;
    if (r.status) {
      const kvs::pb::StatusResponse& s = *r.status;
      row.paxos_role = r.learner ? "learner" : s.role();
      if (!r.up) row.paxos_role.reset();
      row.ballot = s.ballot();
      row.applied_slot = s.applied_slot();
      row.commit_slot = s.commit_slot();
      row.log_slots = s.last_log_slot() >= s.first_log_slot() && s.last_log_slot() > 0
                          ? s.last_log_slot() - s.first_log_slot() + 1
                          : 0;
      row.log_bytes = s.log_bytes();
    }
    if (r.up) {
      row.uptime_s = (now_ms - r.up_since_unix_ms) / 1000;
      if (r.requests_per_second) row.requests_per_second = *r.requests_per_second;
    }
    Attach(row, records);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::optional<NodeRow> NodeTable::Find(const std::string& id, int64_t now_ms) const {
  for (NodeRow& row : Rows(poller_->View(), now_ms)) {
    if (row.id == id) return std::move(row);
  }
  return std::nullopt;
}

}  // namespace penncloud::coordinator
