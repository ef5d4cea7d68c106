// The consistent-hash ring that places rows on replica groups.
//
// A row's position is the first 8 bytes (big-endian) of the MD5 of its bytes. Each group
// has `virtual_nodes` tokens on the ring, at the MD5 positions of "penncloud-vnode/<group
// id>/<index>"; a position belongs to the group of the first token at or after it
// (wrapping around). Everything here is a pure function of the group ids and the virtual
// node count, so every machine computes the same placement from the same map.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::kvs::shard {

using GroupId = uint64_t;

// The ring position of a row (or of any byte string).
uint64_t RingPosition(std::string_view bytes);

// Positions p with start < p <= end; wraps past 2^64 - 1 when start >= end, so
// start == end is the whole ring. Same convention as cluster.RingRange.
struct RingRange {
  uint64_t start = 0;
  uint64_t end = 0;

  bool Contains(uint64_t position) const;
  // The number of positions in the range, saturated at 2^64 - 1 for the whole ring.
  uint64_t Size() const;
  bool operator==(const RingRange&) const = default;
};

// A range whose owner changed between two rings.
struct RangeMove {
  RingRange range;
  GroupId from = 0;
  GroupId to = 0;
  bool operator==(const RangeMove&) const = default;
};

class HashRing {
 public:
  // Groups must be distinct and non-zero; virtual_nodes in [1, kMaxVirtualNodes].
  static absl::StatusOr<HashRing> Build(std::vector<GroupId> groups, uint32_t virtual_nodes);

  static constexpr uint32_t kMaxVirtualNodes = 4096;

  // The group owning `position`. O(log n).
  GroupId OwnerOf(uint64_t position) const;
  GroupId OwnerOfRow(std::string_view row) const { return OwnerOf(RingPosition(row)); }

  // Every range `group` owns, in ring order (adjacent ranges merged).
  std::vector<RingRange> RangesOf(GroupId group) const;

  // (token position, group), sorted by position then group id.
  const std::vector<std::pair<uint64_t, GroupId>>& tokens() const { return tokens_; }
  const std::vector<GroupId>& groups() const { return groups_; }

 private:
  HashRing() = default;

  std::vector<GroupId> groups_;  // sorted
  std::vector<std::pair<uint64_t, GroupId>> tokens_;
};

// Exactly the ranges whose owner differs between `before` and `after`, in ring order,
// adjacent ranges with the same (from, to) merged.
std::vector<RangeMove> DiffRings(const HashRing& before, const HashRing& after);

}  // namespace penncloud::kvs::shard
