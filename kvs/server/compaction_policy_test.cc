#include "kvs/server/compaction_policy.h"

#include "gtest/gtest.h"

namespace penncloud::kvs::server {
namespace {

TEST(CompactionPolicyTest, SmallEntriesCompactBySlotCount) {
  CompactionPolicy policy({.interval_slots = 100, .keep_slots = 10, .log_bytes = 1 << 20});
  for (uint64_t slot = 1; slot < 110; ++slot) {
    policy.Applied(slot, 100);
    EXPECT_FALSE(policy.Due().has_value()) << slot;
  }
  policy.Applied(110, 100);
  ASSERT_TRUE(policy.Due().has_value());
  EXPECT_EQ(*policy.Due(), 100u);
  policy.Compacted(100);
  EXPECT_FALSE(policy.Due().has_value());
  EXPECT_EQ(policy.applied_bytes(), 1000u);  // the ten kept slots
}

TEST(CompactionPolicyTest, LargeEntriesCompactByBytesLongBeforeTheSlotCount) {
  const uint64_t mib = 1 << 20;
  CompactionPolicy policy({.interval_slots = 10000, .keep_slots = 1000, .log_bytes = 8 * mib});
  uint64_t slot = 0;
  while (!policy.Due()) {
    policy.Applied(++slot, mib);
    ASSERT_LE(slot, 8u) << "8 MiB of entries must trigger a compaction";
  }
  EXPECT_EQ(slot, 8u);
  // A quarter of the bound stays: the two newest slots.
  EXPECT_EQ(*policy.Due(), 6u);
  policy.Compacted(*policy.Due());
  EXPECT_EQ(policy.applied_bytes(), 2 * mib);
  EXPECT_FALSE(policy.Due().has_value());
}

TEST(CompactionPolicyTest, TheLogStaysBoundedWhateverTheValueSizes) {
  const uint64_t bound = 4 << 20;
  for (uint64_t size : {100ull, 64ull << 10, 1ull << 20, 3ull << 20, 16ull << 20}) {
    CompactionPolicy policy({.interval_slots = 10000, .keep_slots = 1000, .log_bytes = bound});
    for (uint64_t slot = 1; slot <= 12000; ++slot) {
      policy.Applied(slot, size);
      if (auto through = policy.Due()) policy.Compacted(*through);
      // Never more than the bound plus one entry (the one that crossed it) stays.
      EXPECT_LE(policy.applied_bytes(), bound + size) << "size " << size << " slot " << slot;
    }
    EXPECT_GT(policy.compacted(), 0u) << "size " << size;
  }
}

TEST(CompactionPolicyTest, KeepSlotsAlsoBoundsWhatAByteCompactionKeeps) {
  CompactionPolicy policy({.interval_slots = 10000, .keep_slots = 1, .log_bytes = 1000});
  for (uint64_t slot = 1; slot <= 10; ++slot) policy.Applied(slot, 100);
  ASSERT_TRUE(policy.Due().has_value());
  EXPECT_EQ(*policy.Due(), 9u);  // a quarter of the bound would keep two entries
}

TEST(CompactionPolicyTest, SlotsAtOrBelowACompactionOrAlreadyCountedAreIgnored) {
  CompactionPolicy policy({.interval_slots = 10000, .keep_slots = 10, .log_bytes = 1000});
  policy.Compacted(50);  // a snapshot was installed at 50
  policy.Applied(40, 5000);
  policy.Applied(50, 5000);
  EXPECT_EQ(policy.applied_bytes(), 0u);
  policy.Applied(51, 10);
  policy.Applied(51, 10);  // replayed after a restart
  EXPECT_EQ(policy.applied_bytes(), 10u);
  EXPECT_FALSE(policy.Due().has_value());
}

TEST(CompactionPolicyTest, ZeroBytesMeansNoByteBound) {
  CompactionPolicy policy({.interval_slots = 100, .keep_slots = 10, .log_bytes = 0});
  for (uint64_t slot = 1; slot < 110; ++slot) policy.Applied(slot, 1 << 30);
  EXPECT_FALSE(policy.Due().has_value());
}

}  // namespace
}  // namespace penncloud::kvs::server
