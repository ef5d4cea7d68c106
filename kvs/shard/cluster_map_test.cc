#include "kvs/shard/cluster_map.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvs/shard/map_testing.h"

namespace penncloud::kvs::shard {
namespace {

using ::testing::HasSubstr;
using testing::MakeGroup;
using testing::MakeMap;

ClusterMap Must(absl::StatusOr<ClusterMap> map) {
  EXPECT_TRUE(map.ok()) << map.status();
  return *std::move(map);
}

ClusterMap Must(absl::StatusOr<cluster::ClusterMap> proto) {
  EXPECT_TRUE(proto.ok()) << proto.status();
  return Must(ClusterMap::FromProto(*std::move(proto)));
}

void ExpectInvalid(const cluster::ClusterMap& map, std::string_view why) {
  absl::Status status = ValidateMap(map);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(std::string(why)));
}

TEST(ValidateMapTest, AcceptsAPlainMap) { EXPECT_TRUE(ValidateMap(MakeMap(1, {1, 2, 3})).ok()); }

TEST(ValidateMapTest, NamesTheBrokenRule) {
  ExpectInvalid(MakeMap(0, {1}), "version 0");
  ExpectInvalid(MakeMap(1, {1}, 0), "virtual_nodes");
  ExpectInvalid(MakeMap(1, {}), "no groups");

  cluster::ClusterMap duplicate = MakeMap(1, {1, 2});
  *duplicate.add_groups() = MakeGroup(2);
  duplicate.mutable_groups(2)->mutable_replicas()->Clear();  // keep addresses distinct
  duplicate.mutable_groups(2)->add_replicas()->set_address("10.0.0.1:1");
  duplicate.mutable_groups(2)->mutable_replicas(0)->set_id(1);
  ExpectInvalid(duplicate, "duplicate group 2");

  cluster::ClusterMap empty = MakeMap(1, {1, 2});
  empty.mutable_groups(1)->clear_replicas();
  ExpectInvalid(empty, "group 2 is empty");

  cluster::ClusterMap shared = MakeMap(1, {1, 2});
  shared.mutable_groups(1)->mutable_replicas(0)->set_address("127.0.0.1:711");
  ExpectInvalid(shared, "address 127.0.0.1:711 is used by group 1 replica 1 and group 2 replica 1");

  cluster::ClusterMap twins = MakeMap(1, {1});
  twins.mutable_groups(0)->mutable_replicas(1)->set_id(1);
  ExpectInvalid(twins, "duplicate replica 1");

  cluster::ClusterMap learners = MakeMap(1, {1});
  for (auto& replica : *learners.mutable_groups(0)->mutable_replicas()) replica.set_learner(true);
  ExpectInvalid(learners, "no voting replica");

  cluster::ClusterMap leaving = MakeMap(1, {1});
  leaving.mutable_groups(0)->set_state(cluster::GROUP_LEAVING);
  ExpectInvalid(leaving, "no serving group");
}

TEST(ValidateMapTest, RejectsMigrationsNamingUnknownGroups) {
  absl::StatusOr<cluster::ClusterMap> planned =
      PlanAddGroup(Must(ClusterMap::FromProto(MakeMap(1, {1, 2, 3}))), MakeGroup(4));
  ASSERT_TRUE(planned.ok()) << planned.status();
  cluster::ClusterMap unknown = *planned;
  unknown.mutable_migrations(0)->set_from_group(9);
  ExpectInvalid(unknown, "moves from unknown group 9");

  cluster::ClusterMap overlap = *planned;
  *overlap.add_migrations() = overlap.migrations(0);
  overlap.mutable_migrations(overlap.migrations_size() - 1)->set_id(overlap.next_migration_id());
  overlap.set_next_migration_id(overlap.next_migration_id() + 1);
  ExpectInvalid(overlap, "overlaps migration");

  cluster::ClusterMap wrong_owner = *planned;
  wrong_owner.mutable_migrations(0)->set_to_group(1);
  wrong_owner.mutable_migrations(0)->set_from_group(2);
  ExpectInvalid(wrong_owner, "does not give to group 1");
}

TEST(ClusterMapTest, ParseKeepsTheStoredBytes) {
  ClusterMap map = Must(ClusterMap::FromProto(MakeMap(3, {1, 2})));
  ClusterMap parsed = Must(ClusterMap::Parse(map.bytes()));
  EXPECT_EQ(parsed.bytes(), map.bytes());
  EXPECT_EQ(parsed.version(), 3u);
  EXPECT_NE(parsed.FindGroup(2), nullptr);
  EXPECT_EQ(parsed.FindGroup(7), nullptr);
  EXPECT_TRUE(absl::IsDataLoss(ClusterMap::Parse("\xff\xff garbage").status()));
}

TEST(ClusterMapTest, RoutesByTheRingWhenNothingMoves) {
  ClusterMap map = Must(ClusterMap::FromProto(MakeMap(1, {1, 2, 3})));
  for (int i = 0; i < 1000; ++i) {
    const std::string row = absl::StrCat("row", i);
    EXPECT_EQ(map.GroupOfRow(row), map.ring().OwnerOfRow(row));
  }
}

TEST(ClusterMapTest, AddingAGroupPlansExactlyTheMovedRanges) {
  ClusterMap before = Must(ClusterMap::FromProto(MakeMap(1, {1, 2, 3})));
  ClusterMap after = Must(PlanAddGroup(before, MakeGroup(4)));
  EXPECT_EQ(after.version(), 2u);
  const std::vector<RangeMove> moves = DiffMaps(before, after);
  ASSERT_EQ(after.proto().migrations_size(), static_cast<int>(moves.size()));
  EXPECT_EQ(after.proto().rebalance_ranges_total(), moves.size());
  for (int i = 0; i < after.proto().migrations_size(); ++i) {
    const cluster::Migration& m = after.proto().migrations(i);
    EXPECT_EQ(m.state(), cluster::MIGRATION_PLANNED);
    EXPECT_EQ(m.to_group(), 4u);
    EXPECT_EQ(m.from_group(), moves[i].from);
    EXPECT_EQ(m.range().start(), moves[i].range.start);
    EXPECT_EQ(m.range().end(), moves[i].range.end);
  }
  // While planned, every row still goes to its old group: the source keeps serving.
  for (int i = 0; i < 3000; ++i) {
    const std::string row = absl::StrCat("row", i);
    EXPECT_EQ(after.GroupOfRow(row), before.GroupOfRow(row));
  }
  // Another change must wait for this rebalance.
  EXPECT_TRUE(absl::IsFailedPrecondition(PlanAddGroup(after, MakeGroup(5)).status()));
}

TEST(ClusterMapTest, SwitchedMigrationsRouteToTheDestination) {
  ClusterMap before = Must(ClusterMap::FromProto(MakeMap(1, {1, 2, 3})));
  ClusterMap map = Must(PlanAddGroup(before, MakeGroup(4)));
  const uint64_t first = map.proto().migrations(0).id();
  map = Must(AdvanceMigration(map, first, cluster::MIGRATION_FROZEN, 0, 0));
  map = Must(AdvanceMigration(map, first, cluster::MIGRATION_INSTALLED, 10, 1000));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      AdvanceMigration(map, first, cluster::MIGRATION_PLANNED, 0, 0).status()));
  map = Must(AdvanceMigration(map, first, cluster::MIGRATION_SWITCHED, 10, 1000));
  const cluster::Migration& m = *map.FindMigration(first);
  const RingRange switched{m.range().start(), m.range().end()};
  int checked = 0;
  for (int i = 0; i < 30000; ++i) {
    const std::string row = absl::StrCat("row", i);
    const uint64_t position = RingPosition(row);
    if (switched.Contains(position)) {
      EXPECT_EQ(map.GroupOfRow(row), 4u);
      ++checked;
    } else {
      EXPECT_EQ(map.GroupOfRow(row), before.GroupOfRow(row));
    }
  }
  EXPECT_GT(checked, 0);

  // Finish every migration: routing is the new ring, and Tidy empties the list.
  const std::vector<cluster::Migration> all(map.proto().migrations().begin(),
                                            map.proto().migrations().end());
  for (const cluster::Migration& each : all) {
    map = Must(AdvanceMigration(map, each.id(), cluster::MIGRATION_DONE, 1, 100));
  }
  EXPECT_EQ(map.proto().rebalance_ranges_done(), map.proto().rebalance_ranges_total());
  for (int i = 0; i < 3000; ++i) {
    const std::string row = absl::StrCat("row", i);
    EXPECT_EQ(map.GroupOfRow(row), map.ring().OwnerOfRow(row));
  }
  std::optional<cluster::ClusterMap> tidy = Tidy(map);
  ASSERT_TRUE(tidy.has_value());
  EXPECT_EQ(tidy->migrations_size(), 0);
  EXPECT_EQ(tidy->version(), map.version() + 1);
  EXPECT_FALSE(Tidy(Must(ClusterMap::FromProto(*tidy))).has_value());
}

TEST(ClusterMapTest, RemovingAGroupMovesOnlyItsRangesAndDropsItWhenDone) {
  ClusterMap before = Must(ClusterMap::FromProto(MakeMap(1, {1, 2, 3, 4})));
  ClusterMap map = Must(PlanRemoveGroup(before, 2));
  EXPECT_EQ(map.FindGroup(2)->state(), cluster::GROUP_LEAVING);
  ASSERT_GT(map.proto().migrations_size(), 0);
  for (const cluster::Migration& m : map.proto().migrations()) EXPECT_EQ(m.from_group(), 2u);
  // Group 2 still serves its rows until each range switches.
  for (int i = 0; i < 3000; ++i) {
    const std::string row = absl::StrCat("row", i);
    EXPECT_EQ(map.GroupOfRow(row), before.GroupOfRow(row));
  }
  const std::vector<cluster::Migration> migrations(map.proto().migrations().begin(),
                                                   map.proto().migrations().end());
  for (const cluster::Migration& m : migrations) {
    map = Must(AdvanceMigration(map, m.id(), cluster::MIGRATION_DONE, 0, 0));
  }
  for (int i = 0; i < 3000; ++i) EXPECT_NE(map.GroupOfRow(absl::StrCat("row", i)), 2u);
  ClusterMap tidy = Must(ClusterMap::FromProto(*Tidy(map)));
  EXPECT_EQ(tidy.FindGroup(2), nullptr);
  EXPECT_EQ(tidy.proto().groups_size(), 3);

  EXPECT_FALSE(PlanRemoveGroup(tidy, 2).ok());
  ClusterMap single = Must(ClusterMap::FromProto(MakeMap(1, {1})));
  EXPECT_THAT(std::string(PlanRemoveGroup(single, 1).status().message()), HasSubstr("last one"));
  EXPECT_THAT(std::string(PlanAddGroup(single, MakeGroup(1)).status().message()),
              HasSubstr("already exists"));
}

}  // namespace
}  // namespace penncloud::kvs::shard
