// A KVS leader cut off one way, on real replicas, gRPC and clocks (docs/kvs.md "Reads"):
//  - it cannot send: what it sends its peers is lost while it still hears them, so they stop
//    hearing heartbeats, elect a new leader and take writes there;
//  - it cannot hear: what its peers send it is lost while its own messages arrive.
// Each replica calls each peer on a channel of its own, through its own FaultProxy, so the
// cut is those channels, held (bytes kept and delivered late when the cut heals, as after a
// silent drop) or refused (connections closed). Clients on both sides read and write the
// whole time: some pinned to the old leader, some following the leader. The merged history
// must be linearizable, the final state must hold every acknowledged write, and a counter
// read by a client pinned to the old leader and by a following one must never read older
// than a value acknowledged (by the new leader, after the cut) before the read began.
#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/lincheck/history.h"
#include "tests/kvs/freshness_probe.h"
#include "tests/kvs/history_recorder.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

enum class Direction { kLeaderCannotSend, kLeaderCannotHear };
enum class Manner { kHeld, kRefused };

struct Case {
  Direction direction;
  Manner manner;
};

// How ctest and gtest show a case ("leader cannot send, held").
void PrintTo(const Case& c, std::ostream* out) {
  *out << (c.direction == Direction::kLeaderCannotSend ? "leader cannot send"
                                                       : "leader cannot hear")
       << (c.manner == Manner::kHeld ? ", held" : ", refused");
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return absl::StrCat(info.param.direction == Direction::kLeaderCannotSend ? "LeaderCannotSend"
                                                                           : "LeaderCannotHear",
                      info.param.manner == Manner::kHeld ? "Held" : "Refused");
}

int64_t MicrosSince(Clock::time_point epoch) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch).count();
}

// Cuts (or restores) every channel between `leader` and the others in one direction.
void SetCut(KvsGroup& g, int leader, const Case& c, bool cut) {
  for (int other = 0; other < g.size(); ++other) {
    if (other == leader) continue;
    FaultProxy& link = c.direction == Direction::kLeaderCannotSend ? g.peer_link(leader, other)
                                                                   : g.peer_link(other, leader);
    if (c.manner == Manner::kHeld) {
      link.SetHeld(cut);
    } else {
      link.SetBlocked(cut);
    }
  }
}

// Waits until a majority agrees on a leader other than `old`; its index, or -1.
int WaitForAnotherLeader(KvsGroup& g, int old, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    absl::StatusOr<int> leader = g.Leader(milliseconds(1000));
    if (leader.ok() && *leader != old) return *leader;
  }
  return -1;
}

class KvsOneWayPartitionTest : public ::testing::TestWithParam<Case> {};

TEST_P(KvsOneWayPartitionTest, NoStaleReadAndNoLostWrite) {
  const Case c = GetParam();
  KvsGroupOptions options;
  options.proxied_peers = true;
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  KvsGroup& g = **group;
  const int old_leader = g.Leader().value();

  // One side follows the leader; the other is pinned to the old leader (a client that knows
  // no other replica retries there until its short deadline, whatever hint it gets).
  auto following = kvs::Connect(g.spec());
  ASSERT_TRUE(following.ok()) << following.status();
  kvs::ReplicaGroupOptions pinned_options;
  pinned_options.deadline = milliseconds(1000);
  pinned_options.attempt_timeout = milliseconds(300);
  kvs::ReplicaGroupClient pinned({g.address(old_leader)}, pinned_options);

  const Clock::time_point epoch = Clock::now();
  HistoryRecorder follow_side(following->get(), /*threads=*/4, /*keys=*/4, /*first_client=*/0,
                              epoch);
  HistoryRecorder pinned_side(&pinned, /*threads=*/2, /*keys=*/4, /*first_client=*/100, epoch);
  constexpr int kPinnedReader = 0, kFollowingReader = 1;
  FreshnessProbe probe(following->get(), {&pinned, following->get()}, epoch);
  follow_side.Start();
  pinned_side.Start();
  probe.Start();
  ASSERT_TRUE(follow_side.WaitForMoreWrites(20, seconds(10))) << "no writes before the cut";
  ASSERT_TRUE(probe.WaitForMoreWrites(5, seconds(10)));

  SetCut(g, old_leader, c, true);
  const int64_t cut_us = MicrosSince(epoch);
  const int new_leader = WaitForAnotherLeader(g, old_leader, seconds(20));
  ASSERT_GE(new_leader, 0) << "no other leader was elected after the cut";
  const int64_t new_leader_us = MicrosSince(epoch);
  // Writes acknowledged by the new leader while the old one is still cut off, and reads at
  // the old leader begun after them.
  EXPECT_TRUE(follow_side.WaitForMoreWrites(20, seconds(10))) << "the new leader took no writes";
  EXPECT_TRUE(probe.WaitForMoreWrites(10, seconds(10))) << "the counter did not move on";
  // The freshness check needs a read begun under the new leader and answered before the
  // heal; on a loaded machine the writes above can all land before the first one does.
  for (const Clock::time_point until = Clock::now() + seconds(10);
       probe.AnsweredBy(kFollowingReader, new_leader_us) == 0 && Clock::now() < until;) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  const int64_t heal_us = MicrosSince(epoch);
  SetCut(g, old_leader, c, false);

  // Serving again after the heal, the old leader back in the group.
  EXPECT_TRUE(g.Leader(seconds(10)).ok());
  EXPECT_TRUE(follow_side.WaitForMoreWrites(20, seconds(10))) << "no writes after the heal";
  probe.Stop();
  std::vector<lincheck::Operation> history = pinned_side.Finish();
  std::vector<lincheck::Operation> followed = follow_side.FinishWithFinalReads();
  EXPECT_TRUE(follow_side.final_reads_ok()) << "a final read failed";
  history.insert(history.end(), followed.begin(), followed.end());
  std::vector<lincheck::Operation> counter = probe.History(/*first_client=*/200);
  history.insert(history.end(), counter.begin(), counter.end());

  const FreshnessProbe::Verdict fresh = probe.Judge();
  EXPECT_EQ(fresh.stale, 0) << fresh.first_stale;
  EXPECT_GT(probe.AnsweredBy(kFollowingReader, new_leader_us), 0)
      << "no counter read after the new leader took over: the check saw nothing";
  const lincheck::CheckResult result = lincheck::CheckKv(history, seconds(30));
  EXPECT_EQ(result.verdict, lincheck::CheckResult::Verdict::kLinearizable)
      << "key " << result.key << ": " << result.explanation;

  std::cerr << "old leader " << old_leader + 1 << ", new leader " << new_leader + 1 << " agreed "
            << (new_leader_us - cut_us) / 1000 << " ms after the cut, healed after "
            << (heal_us - cut_us) / 1000 << " ms\n"
            << "counter: " << probe.acknowledged() << " writes acknowledged, " << fresh.reads
            << " reads judged, the old leader answered "
            << probe.AnsweredBy(kPinnedReader, cut_us) -
                   probe.AnsweredBy(kPinnedReader, new_leader_us)
            << " reads begun between the cut and the new leader, "
            << probe.AnsweredBy(kPinnedReader, new_leader_us) -
                   probe.AnsweredBy(kPinnedReader, heal_us)
            << " begun after the new leader and before the heal\n"
            << "history: " << history.size() << " operations, "
            << follow_side.acknowledged_writes() + pinned_side.acknowledged_writes()
            << " acknowledged writes, " << follow_side.failed_ops() + pinned_side.failed_ops()
            << " with unknown outcome\n";
}

INSTANTIATE_TEST_SUITE_P(Cuts, KvsOneWayPartitionTest,
                         ::testing::Values(Case{Direction::kLeaderCannotSend, Manner::kHeld},
                                           Case{Direction::kLeaderCannotSend, Manner::kRefused},
                                           Case{Direction::kLeaderCannotHear, Manner::kHeld},
                                           Case{Direction::kLeaderCannotHear, Manner::kRefused}),
                         CaseName);

}  // namespace
}  // namespace penncloud::testing
