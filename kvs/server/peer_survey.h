// What a replica that lost its disk state must learn from its peers before it may vote
// again (docs/kvs.md "Disk faults", where the argument is written out).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "proto/kvs.pb.h"
#include "proto/paxos.pb.h"

namespace penncloud::kvs::server {

struct PeerSurvey {
  // The highest ballot any voter has promised: at least every ballot the lost state could
  // have promised or accepted in, since each of those ballots is its owner's promise.
  paxos::Ballot ballot_floor;
  // The highest slot in any voter's log: every value the lost state could have helped
  // choose is at or below it.
  uint64_t slot_floor = 0;
  // Every answer, by replica id.
  std::map<uint64_t, pb::StatusResponse> answers;
};

// "round.node", as Status reports a ballot.
absl::StatusOr<paxos::Ballot> ParseBallot(const std::string& text);
bool BallotLess(const paxos::Ballot& a, const paxos::Ballot& b);

// Folds the answers into a survey. Fails unless every voter of every membership an answer
// names (other than `self`) answered: the one that did not may hold the only copy of a
// ballot the lost state promised.
absl::StatusOr<PeerSurvey> Survey(uint64_t self,
                                  const std::map<uint64_t, pb::StatusResponse>& answers);

}  // namespace penncloud::kvs::server
