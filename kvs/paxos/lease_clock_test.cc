// The lease against real clocks: three cores, each ticked by a clock of its own period and
// phase (as the server ticks its core from its own steady clock), on a network that delivers
// at once. The leader's messages are then lost (it still hears the others), and the test
// finds the last moment the old leader hands out a read under its lease and the first
// moment another replica promises a new ballot (or campaigns for one). The lease is safe only
// if the first comes before the second, whatever the phases, for follower clocks faster than
// the leader's by less than the allowance node.h states (lease_margin_ticks per election
// timeout).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "kvs/paxos/ballot.h"
#include "kvs/paxos/node.h"

namespace penncloud::paxos {
namespace {

constexpr int kElectionTicks = 30;  // the server's defaults (kvs_server --election_ticks)
constexpr int kHeartbeatTicks = 5;
constexpr int kMarginTicks = 2;
constexpr int64_t kStepUs = 50;  // the simulation's resolution

struct ClockedNode {
  std::unique_ptr<Node> node;
  int64_t period_us = 10000;
  int64_t next_tick_us = 10000;
};

struct Outcome {
  int64_t last_lease_read_us = -1;  // the old leader's last read handed out after the cut
  int64_t first_rival_us = -1;      // another replica's first promise or candidacy
};

class ClockedGroup {
 public:
  ClockedGroup() {
    Membership members;
    for (NodeId id = 1; id <= 3; ++id) members.add_voters(id);
    members.set_window(4);
    for (NodeId id = 1; id <= 3; ++id) {
      Config config;
      config.id = id;
      config.seed = id * 7919;
      config.election_ticks = kElectionTicks;
      config.heartbeat_ticks = kHeartbeatTicks;
      config.lease_margin_ticks = kMarginTicks;
      PersistentState state;
      *state.snapshot.mutable_config()->mutable_current() = members;
      nodes_[id].node = std::make_unique<Node>(config, std::move(state));
    }
  }

  // Runs until some replica leads; from then on the leader's clock ticks every
  // leader_period_us and the others' every follower_period_us, their next tick
  // follower_phase_us after the leader's. At `cut_us` the leader's messages start to be
  // lost; every step after that it is asked for a read, and a follower is asked for a
  // promise to a new ballot until some replica promises one or campaigns. The run ends when
  // the old leader no longer leads.
  Outcome Run(int64_t leader_period_us, int64_t follower_period_us, int64_t follower_phase_us,
              int64_t cut_us) {
    Outcome out;
    NodeId leader = 0;
    uint64_t next_read = 1;
    for (now_us_ = 0; now_us_ < cut_us + 2'000'000; now_us_ += kStepUs) {
      if (leader == 0) leader = Reclock(leader_period_us, follower_period_us, follower_phase_us);
      for (auto& [id, n] : nodes_) {
        while (n.next_tick_us <= now_us_) {
          n.node->Tick();
          n.next_tick_us += n.period_us;
        }
      }
      const bool cut = leader != 0 && now_us_ >= cut_us;
      if (cut) {
        if (node(leader).is_leader()) {
          EXPECT_TRUE(node(leader).RequestRead(next_read++).ok());
        }
        if (out.first_rival_us < 0) ProbePromise(leader % 3 + 1, (leader + 1) % 3 + 1);
      }
      Settle(cut ? leader : 0, &out);
      for (auto& [id, n] : nodes_) {
        if (cut && id != leader && n.node->Status().role != Role::kFollower &&
            out.first_rival_us < 0) {
          out.first_rival_us = now_us_;
        }
      }
      // On until the old leader stops leading (its check-quorum), so its last lease read
      // is known even when it comes after the rival.
      if (out.first_rival_us >= 0 && !node(leader).is_leader()) break;
    }
    return out;
  }

 private:
  Node& node(NodeId id) { return *nodes_[id].node; }

  // The leader once there is one (0 before), with the clocks set as Run describes.
  NodeId Reclock(int64_t leader_period_us, int64_t follower_period_us, int64_t phase_us) {
    for (auto& [id, n] : nodes_) {
      if (!n.node->is_leader()) continue;
      for (auto& [other, o] : nodes_) {
        o.period_us = other == id ? leader_period_us : follower_period_us;
        o.next_tick_us = n.next_tick_us + (other == id ? 0 : phase_us);
      }
      return id;
    }
    return 0;
  }

  // `rival` asks `follower` to promise a ballot above any either has seen (as a candidate
  // whose election timer had just fired would).
  void ProbePromise(NodeId follower, NodeId rival) {
    const NodeStatus st = node(follower).Status();
    Message m;
    m.set_type(MSG_PREPARE);
    m.set_from(rival);
    m.set_to(follower);
    *m.mutable_ballot() = MakeBallot(st.ballot.round() + 1, rival);
    m.set_from_slot(st.commit + 1);
    m.set_commit(st.commit);
    EXPECT_EQ(node(follower).Step(std::move(m)), DropReason::kNone);
  }

  // Handles every Ready and delivers every message until quiet; what `cut_leader` sends
  // is lost.
  void Settle(NodeId cut_leader, Outcome* out) {
    for (int round = 0; round < 100; ++round) {
      bool any = false;
      for (auto& [id, n] : nodes_) {
        if (!n.node->HasReady()) continue;
        any = true;
        Ready rd = n.node->TakeReady();
        if (id == cut_leader && !rd.reads.empty()) out->last_lease_read_us = now_us_;
        for (Message& m : rd.messages) {
          if (id == cut_leader) continue;  // lost
          const bool rival = cut_leader != 0 && m.type() == MSG_PROMISE && !m.refused();
          if (rival && out->first_rival_us < 0) out->first_rival_us = now_us_;
          inflight_.push_back(std::move(m));
        }
        n.node->Advance();
      }
      std::vector<Message> batch;
      batch.swap(inflight_);
      for (Message& m : batch) {
        nodes_[m.to()].node->Step(std::move(m));
        any = true;
      }
      if (!any) return;
    }
  }

  std::map<NodeId, ClockedNode> nodes_;
  std::vector<Message> inflight_;
  int64_t now_us_ = 0;
};

TEST(LeaseClockTest, OldLeaderStopsServingBeforeAnyReplicaPromisesARival) {
  // Followers' clocks 6% fast: within the allowance of 2 ticks per 30-tick election timeout.
  const int64_t leader_period = 10000, follower_period = 9400;
  int64_t closest_us = INT64_MAX;
  for (int phase = 0; phase < 10; ++phase) {
    for (int cut = 0; cut < 12; ++cut) {
      ClockedGroup group;
      const int64_t cut_us = 1'000'000 + cut * 4'300;
      const Outcome out =
          group.Run(leader_period, follower_period, phase * follower_period / 10, cut_us);
      ASSERT_GE(out.first_rival_us, 0) << "no replica ever promised a rival";
      ASSERT_GE(out.last_lease_read_us, 0) << "the old leader served no read after the cut";
      EXPECT_LT(out.last_lease_read_us, out.first_rival_us)
          << "follower phase " << phase << "/10, cut at " << cut_us << " us: the old leader "
          << "served a lease read " << out.last_lease_read_us - out.first_rival_us
          << " us after a follower promised another ballot";
      closest_us = std::min(closest_us, out.first_rival_us - out.last_lease_read_us);
    }
  }
  std::cerr << "closest gap between the old leader's last lease read and a rival's promise: "
            << closest_us << " us\n";
}

}  // namespace
}  // namespace penncloud::paxos
