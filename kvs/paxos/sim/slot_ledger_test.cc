#include "kvs/paxos/sim/slot_ledger.h"

#include <gtest/gtest.h>

namespace penncloud::paxos::sim {
namespace {

Entry Command(Slot slot, const std::string& c) {
  Entry e;
  e.set_slot(slot);
  e.add_commands(c);
  return e;
}

TEST(SlotLedgerTest, SameValueAgreesAndAnotherValueIsCaught) {
  SlotLedger ledger;
  EXPECT_EQ(ledger.Applied(3, Fingerprint(Command(3, "a"))), SlotLedger::Value::kFirst);
  EXPECT_EQ(ledger.Applied(3, Fingerprint(Command(3, "a"))), SlotLedger::Value::kSame);
  EXPECT_EQ(ledger.Applied(3, Fingerprint(Command(3, "b"))), SlotLedger::Value::kDifferent);
  EXPECT_EQ(ledger.highest(), 3u);
}

TEST(SlotLedgerTest, MembershipIsPartOfTheValue) {
  Entry a, b;
  a.mutable_membership()->add_voters(1);
  b.mutable_membership()->add_learners(1);
  EXPECT_NE(Fingerprint(a), Fingerprint(b));
}

TEST(SlotLedgerTest, StatesMustAgreeAfterEachSlot) {
  SlotLedger ledger;
  EXPECT_TRUE(ledger.StateAfter(2, 40));
  EXPECT_TRUE(ledger.StateAfter(2, 40));
  EXPECT_FALSE(ledger.StateAfter(2, 42));
  // A digest of 0 is recorded too (the ledger never confuses it with "unknown").
  EXPECT_TRUE(ledger.StateAfter(5, 0));
  EXPECT_FALSE(ledger.StateAfter(5, 2));
}

TEST(SlotLedgerTest, SnapshotIsHeldAgainstTheStateAppliedThere) {
  SlotLedger ledger;
  EXPECT_TRUE(ledger.Matches(9, 123));  // nothing applied there yet
  ledger.StateAfter(9, 124);
  EXPECT_TRUE(ledger.Matches(9, 124));
  EXPECT_FALSE(ledger.Matches(9, 126));
}

}  // namespace
}  // namespace penncloud::paxos::sim
