#include "kvs/server/membership_change.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace penncloud::kvs::server {
namespace {

using Ids = google::protobuf::RepeatedField<uint64_t>;

bool Contains(const Ids& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void Erase(Ids* ids, uint64_t id) {
  ids->erase(std::remove(ids->begin(), ids->end(), id), ids->end());
}

std::vector<uint64_t> Sorted(const Ids& ids) {
  std::vector<uint64_t> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end());
  return out;
}

ChangePlan Done() { return ChangePlan{ChangePlan::Kind::kDone, {}, {}}; }
ChangePlan Refuse(std::string why) {
  return ChangePlan{ChangePlan::Kind::kInvalid, {}, std::move(why)};
}

}  // namespace

ChangePlan PlanChange(paxos::Membership latest, const pb::ChangeMembershipRequest& request) {
  const uint64_t id = request.member().id();
  const bool voter = Contains(latest.voters(), id);
  const bool learner = Contains(latest.learners(), id);
  switch (request.change()) {
    case pb::MEMBERSHIP_ADD_LEARNER:
      if (voter || learner) return Done();
      latest.add_learners(id);
      break;
    case pb::MEMBERSHIP_PROMOTE:
      if (voter) return Done();
      if (!learner) return Refuse(absl::StrCat("replica ", id, " is not a learner of this group"));
      Erase(latest.mutable_learners(), id);
      latest.add_voters(id);
      break;
    case pb::MEMBERSHIP_REMOVE:
      if (!voter && !learner) return Done();
      if (voter && latest.voters_size() == 1) {
        return Refuse(absl::StrCat("replica ", id, " is the group's last voter"));
      }
      Erase(latest.mutable_voters(), id);
      Erase(latest.mutable_learners(), id);
      break;
    default:
      return Refuse("unknown membership change");
  }
  return ChangePlan{ChangePlan::Kind::kPropose, std::move(latest), {}};
}

bool SameMembers(const paxos::Membership& a, const paxos::Membership& b) {
  return Sorted(a.voters()) == Sorted(b.voters()) && Sorted(a.learners()) == Sorted(b.learners());
}

}  // namespace penncloud::kvs::server
