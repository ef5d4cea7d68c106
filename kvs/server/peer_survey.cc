#include "kvs/server/peer_survey.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace penncloud::kvs::server {

absl::StatusOr<paxos::Ballot> ParseBallot(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '.');
  uint64_t round = 0;
  uint64_t node = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &round) ||
      !absl::SimpleAtoi(parts[1], &node)) {
    return absl::InvalidArgumentError(absl::StrCat("unreadable ballot \"", text, "\""));
  }
  paxos::Ballot ballot;
  ballot.set_round(round);
  ballot.set_node(node);
  return ballot;
}

bool BallotLess(const paxos::Ballot& a, const paxos::Ballot& b) {
  return std::pair(a.round(), a.node()) < std::pair(b.round(), b.node());
}

absl::StatusOr<PeerSurvey> Survey(uint64_t self,
                                  const std::map<uint64_t, pb::StatusResponse>& answers) {
  std::set<uint64_t> voters;
  for (const auto& [id, status] : answers) {
    for (const pb::Member& m : status.members()) {
      if (!m.learner() && m.id() != self) voters.insert(m.id());
    }
  }
  if (voters.empty()) return absl::UnavailableError("no peer answered with the group's members");
  std::vector<uint64_t> missing;
  for (uint64_t id : voters) {
    if (!answers.contains(id)) missing.push_back(id);
  }
  if (!missing.empty()) {
    return absl::UnavailableError(
        absl::StrCat("voters ", absl::StrJoin(missing, ","), " did not answer"));
  }
  PeerSurvey survey;
  for (const auto& [id, status] : answers) {
    if (!voters.contains(id)) continue;
    absl::StatusOr<paxos::Ballot> ballot = ParseBallot(status.ballot());
    if (!ballot.ok()) return ballot.status();
    if (BallotLess(survey.ballot_floor, *ballot)) survey.ballot_floor = *ballot;
    survey.slot_floor = std::max(survey.slot_floor, status.last_log_slot());
  }
  survey.answers = answers;
  return survey;
}

}  // namespace penncloud::kvs::server
