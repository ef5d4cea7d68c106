#include "kvs/paxos/sim/event_queue.h"

#include <gtest/gtest.h>

namespace penncloud::paxos::sim {
namespace {

struct TestEvent {
  int64_t time = 0;
  uint64_t order = 0;
  EventType type = EventType::kTick;
  int node = 0;
};

TEST(EventQueueTest, HandsOutByTimeThenInTheOrderScheduled) {
  EventQueue<TestEvent> q;
  q.Schedule(30, EventType::kTick, 1);
  q.Schedule(10, EventType::kTick, 2);
  q.Schedule(30, EventType::kTick, 3);
  q.Schedule(10, EventType::kTick, 4);
  q.Schedule(20, EventType::kTick, 5);
  std::vector<int> nodes;
  while (!q.empty()) nodes.push_back(q.Pop()->node);
  EXPECT_EQ(nodes, (std::vector<int>{2, 4, 5, 1, 3}));
}

TEST(EventQueueTest, ScheduledEventCanBeFilledInAfterwards) {
  EventQueue<TestEvent> q;
  q.Schedule(5, EventType::kReady, 7).node = 8;
  const std::unique_ptr<TestEvent> e = q.Pop();
  EXPECT_EQ(e->node, 8);
  EXPECT_EQ(e->type, EventType::kReady);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace penncloud::paxos::sim
