// What a node membership change (docs/sharding.md section 7) asks of the group's latest
// membership: the membership to propose, nothing (a retry of a change that was chosen
// already), or a refusal. The configuration manager's decision, free of the loop.
#pragma once

#include <string>

#include "kvs/paxos/node.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::server {

struct ChangePlan {
  enum class Kind { kPropose, kDone, kInvalid };
  Kind kind = Kind::kInvalid;
  paxos::Membership target;  // kPropose
  std::string error;         // kInvalid
};

// `latest` is the membership being changed to when a change is under way, else the
// current one.
ChangePlan PlanChange(paxos::Membership latest, const pb::ChangeMembershipRequest& request);

// Whether two memberships have the same voters and the same learners, in any order.
bool SameMembers(const paxos::Membership& a, const paxos::Membership& b);

}  // namespace penncloud::kvs::server
