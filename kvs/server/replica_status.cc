// What the replica tells about itself: the core's status published for gRPC threads,
// leader hints in answers, and KvsService.Status.
#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "kvs/server/replica.h"

namespace penncloud::kvs::server {
namespace {

using Clock = std::chrono::steady_clock;

const char* RoleName(paxos::Role role) {
  switch (role) {
    case paxos::Role::kLeader:
      return "leader";
    case paxos::Role::kCandidate:
      return "candidate";
    default:
      return "follower";
  }
}

}  // namespace

void Replica::PublishStatus(bool now_please) {
  is_leader_.store(node_->is_leader(), std::memory_order_relaxed);
  leader_id_.store(node_->leader().value_or(0), std::memory_order_relaxed);
  static thread_local auto last = Clock::time_point();
  const auto now = Clock::now();
  if (!now_please && now - last < std::chrono::milliseconds(20)) return;
  last = now;
  paxos::NodeStatus status = node_->Status();
  std::lock_guard<std::mutex> lock(status_mu_);
  status_ = std::move(status);
}

void Replica::FillHint(pb::LeaderHint* hint) const {
  const uint64_t leader = leader_id_.load(std::memory_order_relaxed);
  FillHint(hint, leader == 0 ? std::nullopt : std::optional<uint64_t>(leader));
}

void Replica::FillHint(pb::LeaderHint* hint, std::optional<uint64_t> leader) const {
  hint->set_not_leader(true);
  if (!leader || *leader == options_.id) return;
  hint->set_leader(book_.ClientAddress(*leader));
}

pb::StatusResponse Replica::StatusNow() const {
  pb::StatusResponse out;
  paxos::NodeStatus status;
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    status = status_;
  }
  out.set_id(options_.id);
  out.set_role(RoleName(status.role));
  if (status.leader) {
    out.set_leader_id(*status.leader);
    out.set_leader(book_.ClientAddress(*status.leader));
  }
  out.set_ballot(absl::StrCat(status.ballot.round(), ".", status.ballot.node()));
  out.set_commit_slot(status.commit);
  out.set_applied_slot(store_->AppliedSlot());
  out.set_first_log_slot(status.first_slot);
  out.set_last_log_slot(status.last_slot);
  out.set_snapshot_slot(status.first_slot > 0 ? status.first_slot - 1 : 0);
  out.set_log_bytes(store_->LogBytes());
  out.set_map_version(map_version_.load(std::memory_order_relaxed));
  out.set_group(options_.group);
  out.set_started_unix_ms(started_unix_ms_);
  out.set_client_requests_total(client_requests_.load(std::memory_order_relaxed));
  out.set_applied_commands_total(applied_commands_.load(std::memory_order_relaxed));
  out.set_session_records(store_->SessionRecords());
  out.set_watches_parked(watches_.size());
  const bool pending = status.config.next_from() != 0;
  out.set_membership_pending(pending);
  const paxos::Membership& m = pending ? status.config.next() : status.config.current();
  const std::map<uint64_t, pb::Member> book = book_.All();
  auto add = [&](uint64_t id, bool learner) {
    pb::Member* member = out.add_members();
    if (auto it = book.find(id); it != book.end()) *member = it->second;
    member->set_id(id);
    member->set_learner(learner);
  };
  for (uint64_t id : m.voters()) add(id, false);
  for (uint64_t id : m.learners()) add(id, true);
  return out;
}

}  // namespace penncloud::kvs::server
