#include "coordinator/registry.h"

#include "common/log.h"
#include "common/metrics.h"

namespace penncloud::coordinator {
namespace {

metrics::CounterFamily& MissedBeats() {
  static metrics::CounterFamily& family = metrics::Default().Counter(
      "coordinator_heartbeats_missed_total",
      "heartbeats not received within half an interval of when they were due, by node",
      {"kind", "node"});
  return family;
}

metrics::CounterFamily& ReceivedBeats() {
  static metrics::CounterFamily& family = metrics::Default().Counter(
      "coordinator_heartbeats_received_total", "heartbeats received, by node kind", {"kind"});
  return family;
}

}  // namespace

bool Registry::IsHealthy(const NodeState& node, Clock::time_point now) const {
  return now - node.last_beat < options_.down_after && now >= node.suspect_until;
}

void Registry::CountMissedBeats(NodeState& node, Clock::time_point now) {
  if (!node.beaten || now <= node.last_beat) return;
  const auto interval = options_.interval;
  const auto silence = now - node.last_beat;
  if (silence < interval + interval / 2) return;
  int64_t missed = (silence - interval / 2) / interval;
  if (missed <= node.missed_in_silence) return;
  int64_t added = missed - node.missed_in_silence;
  node.missed_in_silence = missed;
  node.missed_beats += added;
  MissedBeats().With({node.kind, node.name.empty() ? node.address : node.name}).Inc(added);
}

void Registry::UpdateHealth(NodeState& node, Clock::time_point now) {
  CountMissedBeats(node, now);
  bool healthy = IsHealthy(node, now);
  if (node.healthy && !healthy) {
    PC_LOG(kWarn, "coordinator.node_down")
    ("kind", node.kind)("address", node.address)(
        "silent_ms",
        std::chrono::duration_cast<std::chrono::milliseconds>(now - node.last_beat).count())(
        "missed_beats", node.missed_in_silence);
  }
  node.healthy = healthy;
}

bool Registry::Beat(const std::string& kind, const std::string& address, const std::string& name,
                    const NodeLoad& load, int64_t started_unix_ms, Clock::time_point now,
                    int64_t now_unix_ms) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = nodes_.try_emplace(address);
  NodeState& node = it->second;
  UpdateHealth(node, now);
  bool was_healthy = !inserted && node.healthy;
  if (node.started_unix_ms != started_unix_ms) node.suspect_until = {};  // a new process
  node.kind = kind;
  node.address = address;
  node.name = name;
  node.load = load;
  node.started_unix_ms = started_unix_ms;
  node.last_beat = now;
  node.last_beat_unix_ms = now_unix_ms;
  node.beaten = true;
  node.missed_in_silence = 0;
  ReceivedBeats().With({kind}).Inc();
  UpdateHealth(node, now);
  if (!was_healthy && node.healthy) {
    PC_LOG(kInfo, "coordinator.node_up")("kind", kind)("address", address)("name", name);
    return true;
  }
  return false;
}

void Registry::SetVersion(const std::string& address, const std::string& version) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(address);
  if (it != nodes_.end()) it->second.version = version;
}

void Registry::SetCertificate(const std::string& address, const tls::CertificateInfo& certificate) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(address);
  if (it != nodes_.end()) it->second.certificate = certificate;
}

void Registry::MarkSuspect(const std::string& address, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(address);
  if (it == nodes_.end()) return;
  it->second.suspect_until = now + options_.suspect_for;
  UpdateHealth(it->second, now);
}

std::vector<std::pair<std::string, NodeLoad>> Registry::Healthy(const std::string& kind,
                                                                Clock::time_point now) {
  std::vector<std::pair<std::string, NodeLoad>> out;
  std::lock_guard lock(mu_);
  for (auto& [address, node] : nodes_) {
    UpdateHealth(node, now);
    if (node.kind == kind && node.healthy) out.emplace_back(address, node.load);
  }
  return out;
}

std::vector<NodeState> Registry::Snapshot(const std::string& kind, Clock::time_point now) {
  std::vector<NodeState> out;
  std::lock_guard lock(mu_);
  for (auto& [address, node] : nodes_) {
    UpdateHealth(node, now);
    if (kind.empty() || node.kind == kind) out.push_back(node);
  }
  return out;
}

void Registry::ExportGauges() {
  static metrics::GaugeFamily& up = metrics::Default().Gauge(
      "coordinator_nodes_up", "nodes whose heartbeats are current, by kind", {"kind"});
  static metrics::GaugeFamily& known = metrics::Default().Gauge(
      "coordinator_nodes_known", "nodes ever seen by this coordinator, by kind", {"kind"});
  metrics::Default().OnCollect([this] {
    std::map<std::string, std::pair<int, int>> counts;  // kind -> (up, known)
    for (const NodeState& node : Snapshot("", Clock::now())) {
      auto& [n_up, n_known] = counts[node.kind];
      n_up += node.healthy ? 1 : 0;
      ++n_known;
    }
    for (const auto& [kind, c] : counts) {
      up.With({kind}).Set(c.first);
      known.With({kind}).Set(c.second);
    }
  });
}

}  // namespace penncloud::coordinator
