#include "kvs/paxos/sim/network.h"

#include <gtest/gtest.h>

#include "kvs/paxos/sim/event_queue.h"

namespace penncloud::paxos::sim {
namespace {

// Which of the links among `nodes` the network cuts now (no loss: only the partition).
std::set<std::pair<int, int>> CutLinks(Network& net, Rng& rng, const std::vector<int>& nodes) {
  std::set<std::pair<int, int>> cut;
  for (int a : nodes)
    for (int b : nodes)
      if (a != b && net.Drops(rng, a, b)) cut.insert({a, b});
  return cut;
}

TEST(NetworkTest, NothingIsLostWhileFaultsAreOff) {
  Network net;
  net.loss = 1;
  net.dup = 1;
  Rng rng(1);
  EXPECT_FALSE(net.Lost(rng));
  EXPECT_FALSE(net.Drops(rng, 0, 1));
  EXPECT_EQ(net.Copies(rng), 1);
  net.faults_on = true;
  EXPECT_TRUE(net.Lost(rng));
  EXPECT_TRUE(net.Drops(rng, 0, 1));
  EXPECT_EQ(net.Copies(rng), 2);
}

TEST(NetworkTest, DelaysStayWithinBounds) {
  Network net;
  net.max_delay = 7;
  net.faults_on = true;
  net.long_delay = 0.5;
  Rng rng(3);
  bool long_seen = false;
  for (int k = 0; k < 1000; ++k) {
    const int64_t d = net.Delay(rng);
    EXPECT_GE(d, 1);
    EXPECT_LE(d, 40 * kTick);
    long_seen = long_seen || d > 7;
  }
  EXPECT_TRUE(long_seen);
}

TEST(NetworkTest, PartitionsCutOnlyLinksInsideTheGroupUntilHealed) {
  const std::vector<int> group = {4, 5, 6}, other = {0, 1, 2};
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Network net;
    net.faults_on = true;
    Rng rng(seed);
    const Network::Cut cut = net.Partition(rng, group, {false, true, false});
    const auto links = CutLinks(net, rng, group);
    EXPECT_TRUE(CutLinks(net, rng, other).empty());
    if (cut.what == "isolate") {
      const int x = group[cut.isolated];
      EXPECT_EQ(links.size(), 4u);  // both ways to each of the two others
      for (const auto& [a, b] : links) EXPECT_TRUE(a == x || b == x);
    } else if (cut.what == "split") {
      for (const auto& [a, b] : links) EXPECT_TRUE(links.count({b, a}));  // both ways
    } else {
      EXPECT_EQ(cut.what, "asymmetric");
    }
    net.HealPartition();
    EXPECT_TRUE(CutLinks(net, rng, group).empty());
  }
}

TEST(NetworkTest, IsolatingTheLeaderIsolatesTheOneThatLeads) {
  int leader_isolations = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Network net;
    Rng rng(seed);
    Rng peek = rng;
    const bool kind3 = peek.Below(4) == 3;
    const Network::Cut cut = net.Partition(rng, {0, 1, 2}, {false, false, true});
    if (!kind3) continue;
    ++leader_isolations;
    EXPECT_EQ(cut.isolated, 2);
  }
  EXPECT_GT(leader_isolations, 0);
}

TEST(NetworkTest, EachPartitionHasANewNumber) {
  Network net;
  Rng rng(9);
  net.Partition(rng, {0, 1, 2}, {false, false, false});
  const uint64_t first = net.partition();
  net.Partition(rng, {0, 1, 2}, {false, false, false});
  EXPECT_GT(net.partition(), first);
}

}  // namespace
}  // namespace penncloud::paxos::sim
