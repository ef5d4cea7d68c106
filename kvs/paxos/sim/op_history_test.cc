#include "kvs/paxos/sim/op_history.h"

#include <gtest/gtest.h>

#include <sstream>

namespace penncloud::paxos::sim {
namespace {

using lincheck::OpKind;

TEST(OpHistoryTest, CountsAndChecksWhatClientsSaw) {
  OpHistory h;
  const size_t put = h.Call(1, "k", OpKind::kPut, "v1", std::nullopt, 0);
  h.Return(put, 10, std::nullopt, false);
  const size_t get = h.Call(2, "k", OpKind::kGet, "", std::nullopt, 20);
  h.Return(get, 30, "v1", false);
  const size_t lost = h.Call(1, "k", OpKind::kPut, "v2", std::nullopt, 40);
  h.GiveUp(lost, 50);
  EXPECT_EQ(h.completed(), 2);
  EXPECT_EQ(h.given_up(), 1);
  EXPECT_EQ(h.Check(), std::nullopt);
}

TEST(OpHistoryTest, StaleReadIsNotLinearizable) {
  OpHistory h;
  h.Return(h.Call(1, "k", OpKind::kPut, "v1", std::nullopt, 0), 10, std::nullopt, false);
  h.Return(h.Call(1, "k", OpKind::kPut, "v2", std::nullopt, 20), 30, std::nullopt, false);
  h.AddRead(2, "k", "v1", 40, 50);  // after v2 was acknowledged
  const std::optional<std::string> why = h.Check();
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("not linearizable"), std::string::npos) << *why;
}

TEST(OpHistoryTest, ValueAndExpectationCountOnlyWhereTheyApply) {
  OpHistory h;
  h.Return(h.Call(1, "k", OpKind::kCPut, "v2", "v1", 0), 10, std::nullopt, false);
  h.Return(h.Call(1, "k", OpKind::kDelete, "ignored", "ignored", 20), 30, "ignored", true);
  std::ostringstream out;
  h.Dump(out, 10);
  EXPECT_EQ(out.str(),
            "op client=1 CPUT(k=v2 if v1) [0, 1] -> failed\n"
            "op client=1 DELETE(k) [2, 3]\n");
}

}  // namespace
}  // namespace penncloud::paxos::sim
