// What a replica rebuilding its store learns from its peers: the floors it must respect,
// and no floor at all while a voter is silent.
#include "kvs/server/peer_survey.h"

#include "gtest/gtest.h"

namespace penncloud::kvs::server {
namespace {

pb::StatusResponse Answer(uint64_t id, const std::string& ballot, uint64_t last_slot) {
  pb::StatusResponse s;
  s.set_id(id);
  s.set_ballot(ballot);
  s.set_last_log_slot(last_slot);
  for (uint64_t voter : {1, 2, 3}) s.add_members()->set_id(voter);
  pb::Member* learner = s.add_members();
  learner->set_id(4);
  learner->set_learner(true);
  return s;
}

TEST(PeerSurveyTest, TheFloorsAreTheHighestBallotAndSlotOfEveryVoter) {
  auto survey = Survey(1, {{2, Answer(2, "7.3", 120)}, {3, Answer(3, "9.3", 95)}});
  ASSERT_TRUE(survey.ok()) << survey.status();
  EXPECT_EQ(survey->ballot_floor.round(), 9u);
  EXPECT_EQ(survey->ballot_floor.node(), 3u);
  EXPECT_EQ(survey->slot_floor, 120u);
}

TEST(PeerSurveyTest, BallotsCompareByRoundThenNode) {
  auto survey = Survey(1, {{2, Answer(2, "10.2", 1)}, {3, Answer(3, "9.3", 1)}});
  ASSERT_TRUE(survey.ok()) << survey.status();
  EXPECT_EQ(survey->ballot_floor.round(), 10u);
  EXPECT_EQ(survey->ballot_floor.node(), 2u);
}

TEST(PeerSurveyTest, ASilentVoterLeavesNoFloor) {
  // Voter 3 may be the candidate whose prepare only this replica saw before it lost its
  // state: without its ballot, the floor could be below a promise this replica made.
  auto survey = Survey(1, {{2, Answer(2, "7.2", 120)}});
  ASSERT_FALSE(survey.ok());
  EXPECT_NE(survey.status().message().find("3"), std::string::npos) << survey.status();
}

TEST(PeerSurveyTest, LearnersNeedNotAnswerAndDoNotRaiseTheFloors) {
  auto survey = Survey(
      1, {{2, Answer(2, "7.2", 10)}, {3, Answer(3, "7.2", 10)}, {4, Answer(4, "99.4", 999)}});
  ASSERT_TRUE(survey.ok()) << survey.status();
  EXPECT_EQ(survey->ballot_floor.round(), 7u);
  EXPECT_EQ(survey->slot_floor, 10u);
}

TEST(PeerSurveyTest, AnUnreadableBallotIsRefused) {
  EXPECT_FALSE(ParseBallot("7").ok());
  EXPECT_FALSE(ParseBallot("a.b").ok());
  EXPECT_FALSE(Survey(1, {{2, Answer(2, "x", 1)}, {3, Answer(3, "1.3", 1)}}).ok());
}

}  // namespace
}  // namespace penncloud::kvs::server
