#include "kvs/shard/node_membership.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kvs/client/group_admin.h"
#include "kvs/shard/config_store.h"

namespace penncloud::kvs::shard {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(200);

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view a : absl::StrSplit(list, ',', absl::SkipWhitespace())) out.emplace_back(a);
  return out;
}

// One membership operation: where the group is, its clients, and the overall deadline.
class NodeChange {
 public:
  NodeChange(const GroupTarget& target, const NodeChangeOptions& options)
      : target_(target), options_(options), deadline_(Clock::now() + options.timeout) {}

  absl::Status Resolve() {
    ReplicaGroupOptions quick;
    quick.deadline = std::chrono::milliseconds(5000);
    if (target_.config.empty()) {
      if (target_.addresses.empty()) {
        return absl::InvalidArgumentError(
            "no group: give the config group and a group id, or "
            "the addresses of an unsharded group");
      }
      addresses_ = target_.addresses;
    } else {
      if (target_.group == 0) return absl::InvalidArgumentError("group id 0 (ids start at 1)");
      config_client_ = std::make_unique<ReplicaGroupClient>(Split(target_.config), quick);
      store_ = std::make_unique<ConfigStore>(*config_client_);
      absl::StatusOr<ClusterMap> map = store_->Read();
      if (!map.ok()) return map.status();
      const cluster::Group* group = map->FindGroup(target_.group);
      if (group == nullptr) {
        return absl::NotFoundError(
            absl::StrCat("no group ", target_.group, " in cluster map version ", map->version()));
      }
      for (const cluster::Replica& r : group->replicas()) addresses_.push_back(r.address());
      map_ = std::move(*map);
    }
    // The group's log is the authority: follow every member it names (e.g. one added by an
    // earlier, interrupted run), not only those the caller knows of.
    // During an election no replica is leader: wait for one (within the deadline).
    GroupAdmin admin(addresses_, quick);
    absl::StatusOr<pb::StatusResponse> leader = admin.LeaderStatus();
    while (!leader.ok() && Clock::now() < deadline_) {
      std::this_thread::sleep_for(kPoll);
      leader = admin.LeaderStatus();
    }
    if (!leader.ok()) return leader.status();
    for (const pb::Member& m : leader->members()) {
      if (!m.address().empty()) Include(m.address());
    }
    members_ = {leader->members().begin(), leader->members().end()};
    client_ = std::make_unique<ReplicaGroupClient>(addresses_, quick);
    return absl::OkStatus();
  }

  const pb::Member* Member(uint64_t id) const {
    for (const pb::Member& m : members_) {
      if (m.id() == id) return &m;
    }
    return nullptr;
  }

  void Include(const std::string& address) {
    if (std::find(addresses_.begin(), addresses_.end(), address) == addresses_.end()) {
      addresses_.push_back(address);
    }
  }
  void Rebuild() {
    ReplicaGroupOptions quick;
    quick.deadline = std::chrono::milliseconds(5000);
    client_ = std::make_unique<ReplicaGroupClient>(addresses_, quick);
  }

  void Say(std::string_view line) const {
    if (options_.progress) options_.progress(line);
  }

  // Sends the change until the group's log has chosen it. FAILED_PRECONDITION means "not
  // now" (another change still in flight, or the learner not caught up): wait and retry;
  // `waiting` reports that, at most about once a second.
  absl::Status Change(pb::MembershipChange kind, const pb::Member& member,
                      const std::function<void()>& waiting = nullptr) {
    pb::ChangeMembershipRequest request;
    request.set_change(kind);
    *request.mutable_member() = member;
    auto last_report = Clock::now() - std::chrono::seconds(1);
    absl::Status last;
    while (Clock::now() < deadline_) {
      absl::StatusOr<pb::ChangeMembershipResponse> response = client_->ChangeMembership(request);
      if (response.ok() && response->chosen()) return absl::OkStatus();
      last = response.ok() ? absl::UnavailableError("not chosen") : response.status();
      if (!absl::IsFailedPrecondition(last) && !absl::IsUnavailable(last) &&
          !absl::IsDeadlineExceeded(last)) {
        return last;
      }
      if (waiting && Clock::now() - last_report >= std::chrono::seconds(1)) {
        waiting();
        last_report = Clock::now();
      }
      std::this_thread::sleep_for(kPoll);
    }
    return absl::DeadlineExceededError(
        absl::StrCat(pb::MembershipChange_Name(kind), " of replica ", member.id(),
                     " not chosen within ", options_.timeout.count(), " ms: ", last.message()));
  }

  // Waits until the group's leader (not `gone`) reports a membership in force that
  // `done` accepts.
  absl::Status AwaitMembers(uint64_t gone,
                            const std::function<bool(const pb::StatusResponse&)>& done) {
    std::vector<std::string> remaining;
    for (const std::string& a : addresses_) {
      const pb::Member* m = Member(gone);
      if (m == nullptr || m->address() != a) remaining.push_back(a);
    }
    ReplicaGroupOptions quick;
    quick.attempt_timeout = std::chrono::milliseconds(500);
    GroupAdmin admin(remaining, quick);
    absl::Status last;
    while (Clock::now() < deadline_) {
      absl::StatusOr<pb::StatusResponse> s = admin.LeaderStatus();
      if (s.ok() && s->id() != gone && !s->membership_pending() && done(*s)) {
        return absl::OkStatus();
      }
      last = s.ok() ? absl::UnavailableError("membership change not in force yet") : s.status();
      std::this_thread::sleep_for(kPoll);
    }
    return absl::DeadlineExceededError(
        absl::StrCat("the group's membership did not settle: ", last.message()));
  }

  // Sharded only: the map's replica list follows what the group's log chose.
  absl::Status UpdateMap(const std::function<void(cluster::Group&)>& edit) {
    if (!store_) return absl::OkStatus();
    auto plan = [&](const ClusterMap& current) -> absl::StatusOr<cluster::ClusterMap> {
      cluster::ClusterMap next = current.proto();
      for (cluster::Group& g : *next.mutable_groups()) {
        if (g.id() == target_.group) {
          edit(g);
          return next;
        }
      }
      return absl::NotFoundError(absl::StrCat("group ", target_.group, " left the map"));
    };
    // Nothing to write if the map already says it (a re-run).
    absl::StatusOr<ClusterMap> current = store_->Read();
    if (!current.ok()) return current.status();
    absl::StatusOr<cluster::ClusterMap> wanted = plan(*current);
    if (!wanted.ok()) return wanted.status();
    if (wanted->SerializeAsString() == current->proto().SerializeAsString())
      return absl::OkStatus();
    absl::StatusOr<ClusterMap> written = store_->Update(plan);
    if (!written.ok()) return written.status();
    Say(absl::StrCat("map version ", written->version(), ": group ", target_.group,
                     " replicas updated"));
    PushMapToGroups(*written, std::chrono::milliseconds(3000),
                    [&](std::string_view line) { Say(line); });
    return absl::OkStatus();
  }

  ReplicaGroupClient& client() { return *client_; }
  const std::optional<ClusterMap>& map() const { return map_; }
  uint64_t group() const { return target_.group; }

 private:
  const GroupTarget target_;
  const NodeChangeOptions options_;
  const Clock::time_point deadline_;
  std::vector<std::string> addresses_;
  std::vector<pb::Member> members_;
  std::unique_ptr<ReplicaGroupClient> config_client_;
  std::unique_ptr<ConfigStore> store_;
  std::unique_ptr<ReplicaGroupClient> client_;
  std::optional<ClusterMap> map_;
};

absl::Status CheckNew(const NewReplica& r) {
  if (r.id == 0) return absl::InvalidArgumentError("replica id 0 (ids start at 1)");
  for (const std::string* a : {&r.address, &r.peer_address}) {
    if (a->empty() && a == &r.peer_address) continue;
    if (a->find(':') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad address '", *a, "' (want host:port)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void PushMapToGroups(const ClusterMap& map, std::chrono::milliseconds deadline,
                     const std::function<void(std::string_view)>& progress) {
  ReplicaGroupOptions options;
  options.deadline = deadline;
  for (const cluster::Group& group : map.proto().groups()) {
    std::vector<std::string> addresses;
    for (const cluster::Replica& r : group.replicas()) addresses.push_back(r.address());
    absl::Status s = ReplicaGroupClient(addresses, options).InstallMap(map.bytes());
    if (!s.ok() && progress) {
      progress(absl::StrCat("warning: group ", group.id(), " has not applied map version ",
                            map.version(),
                            " yet (it will read it from the config group): ", s.message()));
    }
  }
}

absl::Status AddReplica(const GroupTarget& target, const NewReplica& replica,
                        const NodeChangeOptions& options) {
  if (absl::Status s = CheckNew(replica); !s.ok()) return s;
  NodeChange change(target, options);
  if (absl::Status s = change.Resolve(); !s.ok()) return s;
  pb::Member member;
  member.set_id(replica.id);
  member.set_address(replica.address);
  member.set_peer_address(replica.peer_address.empty() ? replica.address : replica.peer_address);
  if (const pb::Member* known = change.Member(replica.id);
      known != nullptr && known->address() != member.address()) {
    return absl::AlreadyExistsError(
        absl::StrCat("replica ", replica.id, " is already a member at ", known->address()));
  }
  if (change.map()) {
    for (const cluster::Group& g : change.map()->proto().groups()) {
      for (const cluster::Replica& r : g.replicas()) {
        if (g.id() == change.group() && r.id() == replica.id) continue;
        if (r.address() == member.address() || r.address() == member.peer_address() ||
            (!r.peer_address().empty() && r.peer_address() == member.peer_address())) {
          return absl::AlreadyExistsError(
              absl::StrCat("address in use by replica ", r.id(), " of group ", g.id()));
        }
      }
    }
  }

  change.Say(absl::StrCat("adding replica ", replica.id, " (", member.address(), ") as a learner"));
  if (absl::Status s = change.Change(pb::MEMBERSHIP_ADD_LEARNER, member); !s.ok()) return s;
  auto map_entry = [&](bool learner) {
    return [&, learner](cluster::Group& g) {
      cluster::Replica* r = nullptr;
      for (cluster::Replica& existing : *g.mutable_replicas()) {
        if (existing.id() == replica.id) r = &existing;
      }
      if (r == nullptr) r = g.add_replicas();
      r->set_id(replica.id);
      r->set_address(member.address());
      r->set_peer_address(member.peer_address() == member.address() ? "" : member.peer_address());
      r->set_learner(learner);
    };
  };
  if (absl::Status s = change.UpdateMap(map_entry(true)); !s.ok()) return s;

  // The learner catches up (by log, or by snapshot if the log it needs is compacted);
  // the core refuses the promotion until it is within a few slots of the commit index.
  change.Include(member.address());
  change.Rebuild();
  auto report = [&] {
    GroupAdmin admin({member.address()});
    absl::StatusOr<pb::StatusResponse> learner = std::move(admin.StatusAll().front().second);
    change.Say(learner.ok()
                   ? absl::StrCat("replica ", replica.id, " catching up: applied slot ",
                                  learner->applied_slot(), ", commit ", learner->commit_slot())
                   : absl::StrCat("replica ", replica.id,
                                  " not reachable yet: ", learner.status().message()));
  };
  if (absl::Status s = change.Change(pb::MEMBERSHIP_PROMOTE, member, report); !s.ok()) return s;
  change.Say(absl::StrCat("replica ", replica.id, " is a voter"));
  return change.UpdateMap(map_entry(false));
}

absl::Status RemoveReplica(const GroupTarget& target, uint64_t id,
                           const NodeChangeOptions& options) {
  if (id == 0) return absl::InvalidArgumentError("replica id 0 (ids start at 1)");
  NodeChange change(target, options);
  if (absl::Status s = change.Resolve(); !s.ok()) return s;
  pb::Member member;
  member.set_id(id);
  if (change.Member(id) != nullptr) {
    change.Say(absl::StrCat("removing replica ", id));
    if (absl::Status s = change.Change(pb::MEMBERSHIP_REMOVE, member); !s.ok()) return s;
  }
  // A removed leader leads until the change governs, then steps down; wait for the
  // successor so that the caller may stop the process at once.
  absl::Status settled = change.AwaitMembers(id, [&](const pb::StatusResponse& s) {
    return std::none_of(s.members().begin(), s.members().end(),
                        [&](const pb::Member& m) { return m.id() == id; });
  });
  if (!settled.ok()) return settled;
  change.Say(absl::StrCat("replica ", id, " removed; its process may be stopped"));
  return change.UpdateMap([&](cluster::Group& g) {
    auto* replicas = g.mutable_replicas();
    for (int i = 0; i < replicas->size(); ++i) {
      if (replicas->Get(i).id() == id) {
        replicas->DeleteSubrange(i, 1);
        return;
      }
    }
  });
}

absl::Status ReplaceReplica(const GroupTarget& target, uint64_t old_id,
                            const NewReplica& replacement, const NodeChangeOptions& options) {
  if (old_id == replacement.id) {
    return absl::InvalidArgumentError("the replacement needs a new replica id");
  }
  const auto started = Clock::now();
  if (absl::Status s = AddReplica(target, replacement, options); !s.ok()) return s;
  NodeChangeOptions rest = options;
  rest.timeout = std::max(std::chrono::milliseconds(1000),
                          options.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                Clock::now() - started));
  return RemoveReplica(target, old_id, rest);
}

}  // namespace penncloud::kvs::shard
