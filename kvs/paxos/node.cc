#include "kvs/paxos/node.h"

#include <string>

#include "kvs/paxos/core.h"

namespace penncloud::paxos {
namespace {
constexpr char kLeaderPayload[] = "penncloud.paxos/leader";
}  // namespace

absl::Status NotLeaderError(std::optional<NodeId> leader) {
  absl::Status s = absl::UnavailableError(
      leader ? "not leader; leader is " + std::to_string(*leader) : "not leader; leader unknown");
  if (leader) s.SetPayload(kLeaderPayload, absl::Cord(std::to_string(*leader)));
  return s;
}

std::optional<NodeId> LeaderHint(const absl::Status& status) {
  auto p = status.GetPayload(kLeaderPayload);
  if (!p) return std::nullopt;
  return std::stoull(std::string(*p));
}

Node::Node(const Config& config, PersistentState state)
    : core_(std::make_unique<Core>(config, std::move(state))) {}
Node::~Node() = default;

void Node::Step(Message message) { core_->Step(std::move(message)); }
void Node::Tick() { core_->Tick(); }
absl::Status Node::Propose(std::string command) { return core_->Propose(std::move(command)); }
absl::Status Node::ProposeMembership(const Membership& m) { return core_->ProposeMembership(m); }
absl::Status Node::RequestRead(uint64_t id) { return core_->RequestRead(id); }
absl::StatusOr<SnapshotMeta> Node::Compact(Slot slot) { return core_->Compact(slot); }
void Node::ReportSnapshot(NodeId peer, bool ok) { core_->ReportSnapshot(peer, ok); }
bool Node::HasReady() const { return core_->HasReady(); }
Ready Node::TakeReady() { return core_->TakeReady(); }
void Node::Advance() { core_->Advance(); }
NodeStatus Node::Status() const { return core_->Status(); }
NodeId Node::id() const { return core_->id(); }
bool Node::is_leader() const { return core_->is_leader(); }
std::optional<NodeId> Node::leader() const { return core_->leader(); }

}  // namespace penncloud::paxos
