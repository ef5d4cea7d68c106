// The configuration manager's side of the replica: the cluster map it applied and the
// ownership it gives (docs/sharding.md section 5), polling the config group for newer maps,
// and node membership changes through the log (section 7), with the peer checks that follow
// the membership (docs/security.md, "Inside the cluster").
#include <chrono>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/grpc_authz.h"
#include "common/log.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/paxos/membership.h"
#include "kvs/server/fatal.h"
#include "kvs/server/membership_change.h"
#include "kvs/server/nonce.h"
#include "kvs/server/replica.h"
#include "kvs/server/request_checks.h"
#include "kvs/shard/config_store.h"
#include "kvs/shard/hash_ring.h"

namespace penncloud::kvs::server {
namespace {
using tls::Role;
constexpr char kPeersMeta[] = "peers";  // pb::PeerBook, part of snapshots
}  // namespace

// ---------------------------------------------------------------------------------------
// Sharding.

void Replica::LoadMap(const std::string& bytes) {
  map_.reset();
  if (!bytes.empty()) {
    absl::StatusOr<shard::ClusterMap> map = shard::ClusterMap::Parse(bytes);
    // Maps are validated before they are proposed, so this cannot fail on one replica and
    // not another; if it did, serving everything is what an unsharded group does.
    if (map.ok()) {
      map_ = std::move(*map);
    } else {
      PC_LOG(kError, "kvs.bad_map")("error", map.status().ToString());
    }
  }
  map_version_.store(map_ ? map_->version() : 0, std::memory_order_relaxed);
  if (map_) {
    PC_LOG(kInfo, "kvs.map_applied")("version", map_->version())("group", options_.group);
  }
}

bool Replica::Serves(const std::string& row) const {
  std::string why;
  return Judge(row, /*write=*/false, &why) == Verdict::kServe;
}

Replica::Verdict Replica::Judge(const std::string& row, bool write, std::string* why) const {
  return machine::Judge(options_.group, map_ ? &*map_ : nullptr, store_->Migrations(),
                        shard::RingPosition(row), write, why);
}

void Replica::PollMap() {
  // The leader asks its own group (through the normal RPC, so the map enters the log like
  // any other) to apply what the config group holds, whenever that is newer.
  std::vector<std::string> config;
  for (absl::string_view a : absl::StrSplit(options_.config, ',', absl::SkipWhitespace())) {
    config.emplace_back(a);
  }
  std::vector<std::string> self;
  const auto& addresses =
      options_.client_addresses.empty() ? options_.peers : options_.client_addresses;
  for (const auto& [id, address] : addresses) self.push_back(address);
  ReplicaGroupOptions quick;
  quick.deadline = std::chrono::milliseconds(2000);
  quick.attempt_timeout = std::chrono::milliseconds(500);
  ReplicaGroupClient config_client(config, quick);
  ReplicaGroupClient group_client(self, quick);
  shard::ConfigStore store(config_client);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (poll_cv_.wait_for(lock, std::chrono::milliseconds(options_.map_poll_ms),
                            [&] { return stop_; })) {
        return;
      }
    }
    if (!is_leader_.load(std::memory_order_relaxed)) continue;
    absl::StatusOr<shard::ClusterMap> map = store.Read();
    if (!map.ok()) {
      if (!absl::IsNotFound(map.status())) {
        PC_LOG(kDebug, "kvs.map_poll_failed")("error", map.status().ToString());
      }
      continue;
    }
    if (map->version() <= map_version_.load(std::memory_order_relaxed)) continue;
    absl::Status s = group_client.InstallMap(map->bytes());
    PC_LOG(kInfo, "kvs.map_polled")("version", map->version())("ok", s.ok())("error", s.ToString());
  }
}

// ---------------------------------------------------------------------------------------
// Node membership (docs/sharding.md section 7).

void Replica::LoadPeers() {
  const std::optional<std::string> stored = store_->Meta(kPeersMeta);
  if (!book_.Load(options_.peers, options_.client_addresses, stored)) {
    PC_LOG(kError, "kvs.bad_peer_book")("bytes", stored->size());
  }
  if (transport_) {
    for (const auto& [id, m] : book_.All()) transport_->AddPeer(id, m.peer_address());
  }
}

void Replica::ApplySetPeer(const pb::Member& member) {
  if (member.id() == 0 || member.peer_address().empty()) return;  // refused before proposing
  const std::string book = book_.Set(member);
  if (absl::Status s = store_->PutMeta(kPeersMeta, book, /*sync=*/false); !s.ok()) {
    Fatal("kvs.peer_book_failed", s);
  }
  if (member.id() != options_.id) transport_->AddPeer(member.id(), member.peer_address());
  PC_LOG(kInfo, "kvs.peer_set")
  ("id", member.id())("peer", member.peer_address())("client", member.address());
}

paxos::Membership Replica::LatestMembership() const {
  const paxos::ConfigState config = node_->Status().config;
  return config.next_from() != 0 ? config.next() : config.current();
}

void Replica::StartChange(PendingChange change) {
  if (!node_->is_leader()) {
    FillHint(change.response->mutable_hint());
    change.call->Finish(grpc::Status::OK);
    return;
  }
  if (change_) {
    change.call->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                     "kvs: another membership change is in progress; retry"));
    return;
  }
  const pb::Member& member = change.request.member();
  change_ = std::move(change);
  if (change_->request.change() != pb::MEMBERSHIP_ADD_LEARNER) {
    ProposeChange();
    return;
  }
  if (const uint64_t owner = book_.AddressUsedBy(LatestMembership(), member); owner != 0) {
    FinishChange(Invalid(absl::StrCat("address already used by replica ", owner)));
    return;
  }
  // Every replica must know how to reach the new one before a membership names it.
  pb::Command c;
  c.set_op(pb::OP_SET_PEER);
  c.set_seq(Nonce());
  *c.mutable_peer() = member;
  if (absl::Status s = node_->Propose(c.SerializeAsString()); !s.ok()) {
    FillHint(change_->response->mutable_hint(), paxos::LeaderHint(s));
    FinishChange(grpc::Status::OK);
    return;
  }
  change_->peer_nonce = c.seq();
}

void Replica::ProposeChange() {
  const pb::ChangeMembershipRequest& request = change_->request;
  const uint64_t id = request.member().id();
  change_->peer_nonce = 0;
  ChangePlan plan = PlanChange(LatestMembership(), request);
  if (plan.kind == ChangePlan::Kind::kDone) {  // a retry of a change that was chosen
    change_->response->set_chosen(true);
    FinishChange(grpc::Status::OK);
    return;
  }
  if (plan.kind == ChangePlan::Kind::kInvalid) {
    FinishChange(Invalid(plan.error));
    return;
  }
  paxos::Membership& target = plan.target;
  absl::Status s = node_->ProposeMembership(target);
  if (!s.ok()) {
    if (paxos::LeaderHint(s) || absl::IsUnavailable(s)) {
      FillHint(change_->response->mutable_hint(), paxos::LeaderHint(s));
      FinishChange(grpc::Status::OK);
    } else {
      FinishChange(grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                                absl::StrCat("kvs: ", s.message())));
    }
    return;
  }
  PC_LOG(kInfo, "kvs.membership_proposed")
  ("change", pb::MembershipChange_Name(request.change()))("id", id)("voters", target.voters_size())(
      "learners", target.learners_size());
  change_->target = std::move(target);
}

void Replica::FinishChange(const grpc::Status& status) {
  if (!change_) return;
  change_->call->Finish(status);
  change_.reset();
}

// ---------------------------------------------------------------------------------------
// Authorization of peers (docs/security.md, "Inside the cluster").

grpc::Status Replica::AuthorizePeer(const grpc::ServerContextBase& context, absl::string_view rpc,
                                    uint64_t from) const {
  std::optional<tls::Identity> caller;
  grpc::Status s = tls::Authorize(context, rpc, {Role::kReplica}, &caller);
  if (!s.ok() || !caller) return s;
  if (caller->group != options_.group) {
    return tls::Deny(context, rpc,
                     absl::StrCat("the sender is a replica of group ", caller->group,
                                  ", this is group ", options_.group));
  }
  if (from == options_.id) {
    return tls::Deny(context, rpc, absl::StrCat("the sender says it is this replica, ", from));
  }
  if (caller->member != from) {
    return tls::Deny(context, rpc,
                     absl::StrCat("the sender says it is replica ", from,
                                  " but its certificate names replica ", caller->member));
  }
  if (WasRemoved(from)) {
    return tls::Deny(context, rpc, absl::StrCat("replica ", from, " was removed from the group"));
  }
  return grpc::Status::OK;
}

bool Replica::WasRemoved(uint64_t id) const {
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    const paxos::ConfigState& config = status_.config;
    auto member = [&](uint64_t who) {
      return paxos::IsMember(config.current(), who) ||
             (config.next_from() != 0 && paxos::IsMember(config.next(), who));
    };
    if (member(id)) return false;
    // A replica still joining has no membership of its own yet: it learns it from the
    // very peers that would otherwise be refused.
    if (!member(options_.id)) return false;
  }
  // A sender never named here may be a member added while this replica was away, and its
  // log is the only way back; ids are never reused, so a removed replica is always known.
  return book_.Knows(id);
}

grpc::Status Replica::AuthorizeInstallMap(const grpc::ServerContextBase& context) const {
  // Operators and the coordinator install maps; so does this group's own leader, handing
  // what the config group holds to its log (PollMap).
  std::optional<tls::Identity> caller;
  grpc::Status s = tls::Authorize(context, "InstallMap",
                                  {Role::kCoordinator, Role::kAdmin, Role::kReplica}, &caller);
  if (!s.ok() || !caller || caller->role != Role::kReplica || caller->group == options_.group) {
    return s;
  }
  return tls::Deny(context, "InstallMap", "only this group's own replicas may install its map");
}

}  // namespace penncloud::kvs::server
