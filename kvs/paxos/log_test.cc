#include "kvs/paxos/log.h"

#include <gtest/gtest.h>

namespace penncloud::paxos {
namespace {

std::shared_ptr<Entry> At(Slot s) {
  auto e = std::make_shared<Entry>();
  e->set_slot(s);
  return e;
}

TEST(AcceptorLogTest, HolesAndOverwrite) {
  AcceptorLog log(1);
  EXPECT_EQ(log.last_slot(), 0u);
  log.Put(At(3));
  EXPECT_EQ(log.last_slot(), 3u);
  EXPECT_FALSE(log.Get(1));
  EXPECT_FALSE(log.Get(2));
  ASSERT_TRUE(log.Get(3));
  auto e = At(3);
  e->add_commands("x");
  log.Put(e);
  EXPECT_EQ(log.Get(3)->commands_size(), 1);
  EXPECT_FALSE(log.Get(4));
}

TEST(AcceptorLogTest, DropThrough) {
  AcceptorLog log(1);
  for (Slot s = 1; s <= 5; ++s) log.Put(At(s));
  log.DropThrough(3);
  EXPECT_EQ(log.first_slot(), 4u);
  EXPECT_FALSE(log.Get(3));
  EXPECT_TRUE(log.Get(4));
  log.Put(At(2));  // below the snapshot: ignored
  EXPECT_FALSE(log.Get(2));
  log.DropThrough(9);  // beyond the end
  EXPECT_EQ(log.first_slot(), 10u);
  EXPECT_EQ(log.last_slot(), 9u);
}

}  // namespace
}  // namespace penncloud::paxos
