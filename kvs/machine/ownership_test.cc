#include "kvs/machine/ownership.h"

#include "gtest/gtest.h"
#include "kvs/shard/map_testing.h"

namespace penncloud::kvs::machine {
namespace {

class OwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto map = shard::ClusterMap::Parse(shard::testing::MakeMap(1, {1, 2}).SerializeAsString());
    ASSERT_TRUE(map.ok()) << map.status();
    map_ = std::move(*map);
    // A position group 1 serves and one group 2 serves.
    for (uint64_t p = 1; mine_ == 0 || theirs_ == 0; p += 0x0100000000000001ull) {
      (map_->GroupOfPosition(p) == 1 ? mine_ : theirs_) = p;
    }
  }
  Verdict Of(uint64_t group, uint64_t p, bool write) {
    std::string why;
    return Judge(group, &*map_, table_, p, write, &why);
  }
  pb::MigrationEntry* Move(uint64_t id, uint64_t p, uint64_t from, uint64_t to,
                           pb::MigrationStep step) {
    pb::MigrationEntry* e = table_.add_entries();
    e->set_id(id);
    e->set_start(p - 1);
    e->set_end(p);
    e->set_from_group(from);
    e->set_to_group(to);
    e->set_step(step);
    return e;
  }

  std::optional<shard::ClusterMap> map_;
  pb::MigrationTable table_;
  uint64_t mine_ = 0, theirs_ = 0;
};

TEST_F(OwnershipTest, TheMapDecidesWithoutMigrations) {
  EXPECT_EQ(Of(1, mine_, true), Verdict::kServe);
  EXPECT_EQ(Of(1, theirs_, false), Verdict::kWrongGroup);
  EXPECT_EQ(Of(0, theirs_, true), Verdict::kServe);  // the config group serves all
  std::string why;
  EXPECT_EQ(Judge(1, nullptr, table_, theirs_, true, &why), Verdict::kServe);  // no map yet
}

TEST_F(OwnershipTest, TheSourceFreezesWritesThenLetsGo) {
  pb::MigrationEntry* e = Move(5, mine_, 1, 2, pb::STEP_FROZEN);
  EXPECT_EQ(Of(1, mine_, true), Verdict::kUnavailable);
  EXPECT_EQ(Of(1, mine_, false), Verdict::kServe);  // reads go on while frozen
  e->set_step(pb::STEP_RELEASED);
  EXPECT_EQ(Of(1, mine_, false), Verdict::kWrongGroup);
}

TEST_F(OwnershipTest, TheDestinationServesOnlyOnceActive) {
  pb::MigrationEntry* e = Move(5, theirs_, 2, 1, pb::STEP_INSTALLED);
  EXPECT_EQ(Of(1, theirs_, false), Verdict::kWrongGroup);  // not mapped here yet
  e->set_step(pb::STEP_ACTIVE);
  EXPECT_EQ(Of(1, theirs_, true), Verdict::kServe);
  // The newest migration of the range decides: it moved away again.
  Move(6, theirs_, 1, 2, pb::STEP_RELEASED);
  EXPECT_EQ(Of(1, theirs_, true), Verdict::kWrongGroup);
}

TEST(InRangeTest, RangesWrapAndTheEqualEndsAreTheWholeRing) {
  pb::MigrationEntry e;
  e.set_start(10);
  e.set_end(20);
  EXPECT_FALSE(InRange(e, 10));
  EXPECT_TRUE(InRange(e, 20));
  e.set_start(UINT64_MAX - 1);
  e.set_end(5);
  EXPECT_TRUE(InRange(e, UINT64_MAX));
  EXPECT_TRUE(InRange(e, 0));
  EXPECT_FALSE(InRange(e, 6));
  e.set_start(7);
  e.set_end(7);
  EXPECT_TRUE(InRange(e, 7));
  EXPECT_TRUE(InRange(e, 123456));
}

}  // namespace
}  // namespace penncloud::kvs::machine
