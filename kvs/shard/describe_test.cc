#include "kvs/shard/describe.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvs/shard/map_testing.h"

namespace penncloud::kvs::shard {
namespace {

using ::testing::HasSubstr;

TEST(ParseGroupTest, ReadsIdsAndAddresses) {
  absl::StatusOr<cluster::Group> group = ParseGroup(4, "1=127.0.0.1:7041, 2=127.0.0.1:7042");
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(group->id(), 4u);
  EXPECT_EQ(group->state(), cluster::GROUP_SERVING);
  ASSERT_EQ(group->replicas_size(), 2);
  EXPECT_EQ(group->replicas(1).id(), 2u);
  EXPECT_EQ(group->replicas(1).address(), "127.0.0.1:7042");
}

TEST(ParseGroupTest, RefusesBadSpecs) {
  EXPECT_FALSE(ParseGroup(4, "").ok());
  EXPECT_FALSE(ParseGroup(4, "127.0.0.1:7041").ok());
  EXPECT_FALSE(ParseGroup(4, "0=127.0.0.1:7041").ok());
  EXPECT_FALSE(ParseGroup(4, "1=localhost").ok());
  EXPECT_THAT(std::string(ParseGroup(4, "1=a:1,1=a:2").status().message()),
              HasSubstr("replica 1 named twice"));
}

TEST(DescribeTest, ShowsGroupsSharesAndProgress) {
  ClusterMap v1 = *ClusterMap::FromProto(testing::MakeMap(1, {1, 2, 3}));
  EXPECT_EQ(DescribeProgress(v1), "no rebalance in progress");
  std::string text = DescribeMap(v1);
  EXPECT_THAT(text, HasSubstr("cluster map version 1, 192 virtual nodes per group"));
  EXPECT_THAT(text, HasSubstr("group 2 serving, ring share 3"));  // about a third
  EXPECT_THAT(text, HasSubstr(" 1=127.0.0.1:721"));

  ClusterMap v2 = *ClusterMap::FromProto(*PlanAddGroup(v1, testing::MakeGroup(4)));
  const uint64_t total = v2.proto().rebalance_ranges_total();
  EXPECT_EQ(
      DescribeProgress(v2),
      absl::StrCat("rebalance: 0/", total, " ranges done, 0.0 MiB moved, ", total, " ranges left"));
  ClusterMap v3 = *ClusterMap::FromProto(
      *AdvanceMigration(v2, v2.proto().migrations(0).id(), cluster::MIGRATION_DONE, 10, 3 << 20));
  EXPECT_EQ(DescribeProgress(v3),
            absl::StrCat("rebalance: 1/", total, " ranges done, 3.0 MiB moved, ", total - 1,
                         " ranges left"));
  EXPECT_THAT(DescribeMap(v3), HasSubstr(absl::StrCat("  ", total - 1, " MIGRATION_PLANNED\n")));
  EXPECT_THAT(DescribeMap(v3), HasSubstr("  1 MIGRATION_DONE\n"));
}

}  // namespace
}  // namespace penncloud::kvs::shard
