#include "kvs/shard/hash_ring.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"
#include "openssl/evp.h"

namespace penncloud::kvs::shard {

uint64_t RingPosition(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // MD5 cannot fail on in-memory input with the default provider; a failure would mean a
  // broken OpenSSL install, and placing rows arbitrarily would be worse than stopping.
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_md5(), nullptr) != 1 ||
      length < 8) {
    std::abort();
  }
  uint64_t position = 0;
  for (int i = 0; i < 8; ++i) position = (position << 8) | digest[i];
  return position;
}

bool RingRange::Contains(uint64_t position) const {
  if (start < end) return start < position && position <= end;
  return position > start || position <= end;
}

uint64_t RingRange::Size() const {
  if (start == end) return std::numeric_limits<uint64_t>::max();
  return end - start;  // modular arithmetic handles the wrapping case
}

absl::StatusOr<HashRing> HashRing::Build(std::vector<GroupId> groups, uint32_t virtual_nodes) {
  if (virtual_nodes < 1 || virtual_nodes > kMaxVirtualNodes) {
    return absl::InvalidArgumentError(absl::StrCat("hash ring: virtual_nodes is ", virtual_nodes,
                                                   "; want 1..", kMaxVirtualNodes));
  }
  if (groups.empty()) return absl::InvalidArgumentError("hash ring: no groups");
  std::sort(groups.begin(), groups.end());
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i] == 0) return absl::InvalidArgumentError("hash ring: group id 0");
    if (i > 0 && groups[i] == groups[i - 1]) {
      return absl::InvalidArgumentError(absl::StrCat("hash ring: duplicate group ", groups[i]));
    }
  }
  HashRing ring;
  ring.groups_ = std::move(groups);
  ring.tokens_.reserve(ring.groups_.size() * virtual_nodes);
  for (GroupId group : ring.groups_) {
    for (uint32_t i = 0; i < virtual_nodes; ++i) {
      ring.tokens_.emplace_back(RingPosition(absl::StrCat("penncloud-vnode/", group, "/", i)),
                                group);
    }
  }
  // Ties (vanishingly rare) go to the lower group id: the order is total, so deterministic.
  std::sort(ring.tokens_.begin(), ring.tokens_.end());
  return ring;
}

GroupId HashRing::OwnerOf(uint64_t position) const {
  auto it = std::lower_bound(tokens_.begin(), tokens_.end(), std::make_pair(position, GroupId{0}));
  if (it == tokens_.end()) it = tokens_.begin();
  return it->second;
}

std::vector<RingRange> HashRing::RangesOf(GroupId group) const {
  std::vector<RingRange> ranges;
  const size_t n = tokens_.size();
  for (size_t i = 0; i < n; ++i) {
    if (tokens_[i].second != group) continue;
    const uint64_t start = tokens_[(i + n - 1) % n].first;
    const uint64_t end = tokens_[i].first;
    if (start == end && n > 1) continue;  // a tied token owns nothing
    if (!ranges.empty() && ranges.back().end == start) {
      ranges.back().end = end;
    } else {
      ranges.push_back({start, end});
    }
  }
  // The first and last ranges meet across the wrap point: one range, not two.
  if (ranges.size() > 1 && ranges.back().end == ranges.front().start) {
    ranges.front().start = ranges.back().start;
    ranges.pop_back();
  }
  return ranges;
}

std::vector<RangeMove> DiffRings(const HashRing& before, const HashRing& after) {
  // Between two consecutive boundaries of either ring, both rings have a single owner: the
  // owner of the upper boundary. So comparing owners at every boundary finds every change.
  std::vector<uint64_t> bounds;
  bounds.reserve(before.tokens().size() + after.tokens().size());
  for (const auto& [position, group] : before.tokens()) bounds.push_back(position);
  for (const auto& [position, group] : after.tokens()) bounds.push_back(position);
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

  std::vector<RangeMove> moves;
  const size_t n = bounds.size();
  for (size_t i = 0; i < n; ++i) {
    const GroupId from = before.OwnerOf(bounds[i]);
    const GroupId to = after.OwnerOf(bounds[i]);
    if (from == to) continue;
    const uint64_t start = bounds[(i + n - 1) % n];
    if (!moves.empty() && moves.back().range.end == start && moves.back().from == from &&
        moves.back().to == to) {
      moves.back().range.end = bounds[i];
    } else {
      moves.push_back({{start, bounds[i]}, from, to});
    }
  }
  if (moves.size() > 1 && moves.back().range.end == moves.front().range.start &&
      moves.back().from == moves.front().from && moves.back().to == moves.front().to) {
    moves.front().range.start = moves.back().range.start;
    moves.pop_back();
  }
  return moves;
}

}  // namespace penncloud::kvs::shard
