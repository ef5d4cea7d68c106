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

const char* DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kNone:
      return "none";
    case DropReason::kWrongRecipient:
      return "wrong_recipient";
    case DropReason::kFromSelf:
      return "from_self";
    case DropReason::kUnknownType:
      return "unknown_type";
    case DropReason::kNotMember:
      return "not_member";
    case DropReason::kBadBallot:
      return "bad_ballot";
    case DropReason::kBadSlot:
      return "bad_slot";
    case DropReason::kTooLarge:
      return "too_large";
    case DropReason::kBadEntry:
      return "bad_entry";
    case DropReason::kInconsistent:
      return "inconsistent";
  }
  return "unknown";
}

Node::Node(const Config& config, PersistentState state)
    : core_(std::make_unique<Core>(config, std::move(state))) {}
Node::~Node() = default;

DropReason Node::Step(Message message) { return core_->Step(std::move(message)); }
const DropCounts& Node::drops() const { return core_->drops(); }
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
