#include "kvs/shard/hash_ring.h"

#include <limits>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace penncloud::kvs::shard {
namespace {

constexpr uint32_t kVnodes = 192;
constexpr int kRows = 30000;

std::string RowName(int i) { return absl::StrCat("user", i, "/inbox"); }

HashRing MustBuild(std::vector<GroupId> groups, uint32_t vnodes = kVnodes) {
  absl::StatusOr<HashRing> ring = HashRing::Build(std::move(groups), vnodes);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *std::move(ring);
}

// The group of `position` according to a list of moves, or `fallback` if no move covers it.
GroupId MovedTo(const std::vector<RangeMove>& moves, uint64_t position, GroupId fallback,
                GroupId* from = nullptr) {
  for (const RangeMove& move : moves) {
    if (move.range.Contains(position)) {
      if (from != nullptr) *from = move.from;
      return move.to;
    }
  }
  return fallback;
}

TEST(RingPositionTest, IsTheFirstEightBytesOfMd5BigEndian) {
  // MD5("") = d41d8cd98f00b204e9800998ecf8427e, MD5("abc") = 900150983cd24fb0d6963f7d28e17f72:
  // fixed by RFC 1321, so every machine places every row identically.
  EXPECT_EQ(RingPosition(""), 0xd41d8cd98f00b204ULL);
  EXPECT_EQ(RingPosition("abc"), 0x900150983cd24fb0ULL);
}

TEST(RingRangeTest, ContainsHandlesWrapAndWholeRing) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  RingRange plain{10, 20};
  EXPECT_FALSE(plain.Contains(10));
  EXPECT_TRUE(plain.Contains(11));
  EXPECT_TRUE(plain.Contains(20));
  EXPECT_FALSE(plain.Contains(21));
  EXPECT_EQ(plain.Size(), 10u);
  RingRange wrap{kMax - 5, 3};
  EXPECT_TRUE(wrap.Contains(kMax));
  EXPECT_TRUE(wrap.Contains(0));
  EXPECT_TRUE(wrap.Contains(3));
  EXPECT_FALSE(wrap.Contains(4));
  EXPECT_FALSE(wrap.Contains(kMax - 5));
  EXPECT_EQ(wrap.Size(), 9u);
  RingRange whole{7, 7};
  EXPECT_TRUE(whole.Contains(7));
  EXPECT_TRUE(whole.Contains(0));
  EXPECT_TRUE(whole.Contains(kMax));
}

TEST(HashRingTest, RejectsBadInput) {
  EXPECT_FALSE(HashRing::Build({}, kVnodes).ok());
  EXPECT_FALSE(HashRing::Build({1, 2, 1}, kVnodes).ok());
  EXPECT_FALSE(HashRing::Build({0, 1}, kVnodes).ok());
  EXPECT_FALSE(HashRing::Build({1}, 0).ok());
  EXPECT_FALSE(HashRing::Build({1}, HashRing::kMaxVirtualNodes + 1).ok());
}

TEST(HashRingTest, ThreeGroupsEachHoldBetween25And42PercentOf30000Rows) {
  HashRing ring = MustBuild({1, 2, 3});
  std::map<GroupId, int> count;
  for (int i = 0; i < kRows; ++i) ++count[ring.OwnerOfRow(RowName(i))];
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [group, n] : count) {
    const double share = static_cast<double>(n) / kRows;
    EXPECT_GE(share, 0.25) << "group " << group;
    EXPECT_LE(share, 0.42) << "group " << group;
  }
}

TEST(HashRingTest, SameGroupsInAnyOrderPlaceRowsIdentically) {
  HashRing a = MustBuild({1, 2, 3});
  HashRing b = MustBuild({3, 1, 2});
  EXPECT_EQ(a.tokens(), b.tokens());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(a.OwnerOfRow(RowName(i)), b.OwnerOfRow(RowName(i)));
}

TEST(HashRingTest, PlacementIsPinned) {
  // Recorded once; a change here would move every stored row of a running cluster.
  HashRing ring = MustBuild({1, 2, 3});
  std::string placement;
  for (int i = 0; i < 16; ++i) absl::StrAppend(&placement, ring.OwnerOfRow(RowName(i)));
  EXPECT_EQ(placement, "3232123322211112");
}

TEST(HashRingTest, OwnerIsFirstTokenAtOrAfterPosition) {
  HashRing ring = MustBuild({1, 2, 3}, 16);
  const auto& tokens = ring.tokens();
  ASSERT_EQ(tokens.size(), 48u);
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(ring.OwnerOf(tokens[i].first), tokens[i].second);
    if (i > 0) {
      EXPECT_EQ(ring.OwnerOf(tokens[i - 1].first + 1), tokens[i].second);
    }
  }
  EXPECT_EQ(ring.OwnerOf(tokens.back().first + 1), tokens.front().second);
  EXPECT_EQ(ring.OwnerOf(0), tokens.front().second);
}

TEST(HashRingTest, RangesOfPartitionTheRing) {
  HashRing ring = MustBuild({1, 2, 3}, 32);
  for (int i = 0; i < 3000; ++i) {
    const uint64_t position = RingPosition(RowName(i));
    int holders = 0;
    for (GroupId group : {1, 2, 3}) {
      for (const RingRange& range : ring.RangesOf(group)) {
        if (range.Contains(position)) {
          ++holders;
          EXPECT_EQ(group, ring.OwnerOf(position));
        }
      }
    }
    EXPECT_EQ(holders, 1);
  }
  HashRing single = MustBuild({5}, 8);
  ASSERT_EQ(single.RangesOf(5).size(), 1u);
  EXPECT_EQ(single.RangesOf(5)[0].Size(), std::numeric_limits<uint64_t>::max());
}

TEST(DiffRingsTest, AddingAFourthGroupMovesOnlyToItAndAboutAQuarter) {
  HashRing before = MustBuild({1, 2, 3});
  HashRing after = MustBuild({1, 2, 3, 4});
  std::vector<RangeMove> moves = DiffRings(before, after);
  ASSERT_FALSE(moves.empty());
  for (const RangeMove& move : moves) {
    EXPECT_EQ(move.to, 4u);
    EXPECT_NE(move.from, 4u);
  }
  int moved = 0;
  for (int i = 0; i < kRows; ++i) {
    const uint64_t position = RingPosition(RowName(i));
    const GroupId old_owner = before.OwnerOf(position);
    const GroupId new_owner = after.OwnerOf(position);
    GroupId from = 0;
    // The moves say exactly where each row ends up, and from where.
    EXPECT_EQ(MovedTo(moves, position, old_owner, &from), new_owner) << RowName(i);
    if (old_owner != new_owner) {
      ++moved;
      EXPECT_EQ(from, old_owner);
    }
  }
  const double fraction = static_cast<double>(moved) / kRows;
  EXPECT_GT(fraction, 0.20);
  EXPECT_LT(fraction, 0.30);
}

TEST(DiffRingsTest, RemovingAGroupMovesOnlyItsRanges) {
  HashRing before = MustBuild({1, 2, 3, 4});
  HashRing after = MustBuild({1, 2, 4});
  std::vector<RangeMove> moves = DiffRings(before, after);
  ASSERT_FALSE(moves.empty());
  for (const RangeMove& move : moves) {
    EXPECT_EQ(move.from, 3u);
    EXPECT_NE(move.to, 3u);
  }
  for (int i = 0; i < kRows; ++i) {
    const uint64_t position = RingPosition(RowName(i));
    const GroupId old_owner = before.OwnerOf(position);
    EXPECT_EQ(MovedTo(moves, position, old_owner), after.OwnerOf(position));
    if (old_owner != 3) {
      EXPECT_EQ(after.OwnerOf(position), old_owner);
    }
  }
  // The moved ranges are exactly group 3's ranges, position for position.
  uint64_t moved_size = 0;
  for (const RangeMove& move : moves) moved_size += move.range.Size();
  uint64_t owned_size = 0;
  for (const RingRange& range : before.RangesOf(3)) owned_size += range.Size();
  EXPECT_EQ(moved_size, owned_size);
}

TEST(DiffRingsTest, IdenticalRingsMoveNothing) {
  EXPECT_TRUE(DiffRings(MustBuild({1, 2}), MustBuild({2, 1})).empty());
}

TEST(DiffRingsTest, FromOneGroupToTwo) {
  HashRing before = MustBuild({1}, 4);
  HashRing after = MustBuild({1, 2}, 4);
  std::vector<RangeMove> moves = DiffRings(before, after);
  ASSERT_FALSE(moves.empty());
  uint64_t moved_size = 0;
  for (const RangeMove& move : moves) {
    EXPECT_EQ(move.from, 1u);
    EXPECT_EQ(move.to, 2u);
    moved_size += move.range.Size();
  }
  uint64_t owned_size = 0;
  for (const RingRange& range : after.RangesOf(2)) owned_size += range.Size();
  EXPECT_EQ(moved_size, owned_size);
}

}  // namespace
}  // namespace penncloud::kvs::shard
