#include "mail/search_segments.h"

#include <algorithm>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "mail/delivery_pool.h"
#include "mail/search_concurrency.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

// A block is cut once it holds this much; a key's list is cut into pieces of at most
// kMaxPieceIds, so no block comes near the store's value limit. A key not cached costs a
// block of every segment, all of it received and decoded: smaller blocks cost a query less
// (256 KiB ones took twice the CPU per query at p99), larger ones make the manifest,
// which lists each block's first key, longer (14 KB at 50,000 messages).
constexpr size_t kBlockBytes = 64 << 10;
constexpr size_t kMaxPieceIds = 32 << 10;
constexpr size_t kIdBytes = 16;
// Decoded blocks kept per process. Blocks never change, so a cached one is never stale.
constexpr size_t kCacheBytes = 64 << 20;
// Blocks a query reads from the store at once.
constexpr size_t kBlockReadsInFlight = 32;

std::string BlockColumn(std::string_view name, size_t n) {
  return Cat(kSegmentPrefix, name, "/", n);
}

using Block = std::shared_ptr<const pb::SearchBlock>;

class BlockCache {
 public:
  Block Get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.where);
    return it->second.block;
  }
  void Put(const std::string& key, Block block, size_t bytes) {
    std::lock_guard lock(mu_);
    if (map_.contains(key) || bytes > kCacheBytes) return;
    order_.push_front(key);
    map_[key] = {std::move(block), bytes, order_.begin()};
    bytes_ += bytes;
    while (bytes_ > kCacheBytes) {
      auto last = map_.find(order_.back());
      bytes_ -= last->second.bytes;
      map_.erase(last);
      order_.pop_back();
    }
  }

 private:
  struct Entry {
    Block block;
    size_t bytes;
    std::list<std::string>::iterator where;
  };
  std::mutex mu_;
  std::list<std::string> order_;                // GUARDED_BY(mu_), most recent first
  std::unordered_map<std::string, Entry> map_;  // GUARDED_BY(mu_)
  size_t bytes_ = 0;                            // GUARDED_BY(mu_)
};

BlockCache& Cache() {
  static auto* cache = new BlockCache;  // shared by every store of the process
  return *cache;
}

std::string BlockKey(std::string_view row, std::string_view column) {
  return Cat(row, "\n", column);
}

absl::StatusOr<Block> ReadBlock(kvs::Client& kvs, std::string_view row,
                                const pb::SearchSegment& segment, size_t n) {
  const std::string column = BlockColumn(segment.name(), n);
  const std::string key = BlockKey(row, column);
  if (Block cached = Cache().Get(key)) return cached;
  auto value = kvs.Get(row, column);
  if (absl::IsNotFound(value.status())) return absl::AbortedError("the search index changed");
  if (!value.ok()) return value.status();
  auto block = std::make_shared<pb::SearchBlock>();
  if (!block->ParseFromString(*value)) return absl::DataLossError("bad search segment cell");
  Cache().Put(key, block, value->size());
  return block;
}

// The blocks `wanted` (a segment and a block number each), in that order. A key not cached
// costs a block from every segment (a mailbox of 50,000 has dozens), so the blocks not
// cached are read together rather than one after another.
absl::StatusOr<std::vector<Block>> ReadBlocks(
    kvs::Client& kvs, std::string_view row,
    const std::vector<std::pair<const pb::SearchSegment*, size_t>>& wanted) {
  std::vector<Block> blocks(wanted.size());
  std::vector<size_t> missing;
  for (size_t i = 0; i < wanted.size(); ++i) {
    const auto& [segment, n] = wanted[i];
    blocks[i] = Cache().Get(BlockKey(row, BlockColumn(segment->name(), n)));
    if (!blocks[i]) missing.push_back(i);
  }
  auto read = ForEachConcurrently(missing.size(), kBlockReadsInFlight, [&](size_t m) {
    const auto& [segment, n] = wanted[missing[m]];
    auto block = ReadBlock(kvs, row, *segment, n);
    if (!block.ok()) return block.status();
    blocks[missing[m]] = std::move(*block);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  return blocks;
}

void AppendIds(std::string_view packed, std::vector<std::string>* out) {
  for (size_t at = 0; at + kIdBytes <= packed.size(); at += kIdBytes) {
    out->push_back(absl::BytesToHexString(absl::string_view(packed.data() + at, kIdBytes)));
  }
}

}  // namespace

std::string NewSegmentName(int64_t now_micros) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x%016x", ~static_cast<uint64_t>(now_micros), rng());
}

std::string_view SegmentOfColumn(std::string_view column) {
  if (!column.starts_with(kSegmentPrefix)) return {};
  column.remove_prefix(kSegmentPrefix.size());
  return column.substr(0, column.find('/'));
}

absl::StatusOr<pb::SearchSegment> WriteSegment(kvs::Client& kvs, std::string_view row,
                                               std::string name, const PostingMap& postings,
                                               int64_t messages) {
  pb::SearchSegment segment;
  segment.set_name(std::move(name));
  segment.set_messages(messages);
  std::vector<std::string> blocks;
  pb::SearchBlock block;
  size_t bytes = 0;
  auto cut = [&] {
    blocks.push_back(block.SerializeAsString());
    block.Clear();
    bytes = 0;
  };
  for (const auto& [key, ids] : postings) {
    for (size_t from = 0; from < ids.size(); from += kMaxPieceIds) {
      if (bytes >= kBlockBytes) cut();
      if (block.postings_size() == 0) segment.add_first_keys(key);
      pb::SearchPostings* piece = block.add_postings();
      piece->set_key(key);
      const size_t to = std::min(ids.size(), from + kMaxPieceIds);
      std::string packed;
      packed.reserve((to - from) * kIdBytes);
      for (size_t i = from; i < to; ++i) packed += absl::HexStringToBytes(ids[i]);
      bytes += key.size() + packed.size();
      piece->set_ids(std::move(packed));
    }
  }
  if (block.postings_size() > 0) cut();
  auto written = RunTogether(blocks.size(), [&](size_t n) {
    return kvs.Put(row, BlockColumn(segment.name(), n), blocks[n]);
  });
  if (!written.ok()) return written;
  return segment;
}

void PackedPostings::Add(std::shared_ptr<const pb::SearchBlock> block, std::string_view run) {
  const size_t ids = run.size() / kIdBytes;
  if (ids == 0) return;
  blocks_.push_back(std::move(block));
  runs_.push_back(run.substr(0, ids * kIdBytes));
  run_starts_.push_back(size_);
  size_ += ids;
}

std::string PackedPostings::IdAt(size_t i) const {
  const size_t run =
      std::upper_bound(run_starts_.begin(), run_starts_.end(), i) - run_starts_.begin() - 1;
  const std::string_view id = runs_[run].substr((i - run_starts_[run]) * kIdBytes, kIdBytes);
  return absl::BytesToHexString(absl::string_view(id.data(), id.size()));
}

size_t PackedPostings::UpperBound(std::string_view after) const {
  // Hex digits sort as the bytes they spell, so the runs are ascending as hex too.
  size_t lo = 0, hi = size_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (IdAt(mid) <= after) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

absl::StatusOr<std::vector<std::vector<PackedPostings>>> LocatePackedPostings(
    kvs::Client& kvs, std::string_view row, const std::vector<const pb::SearchSegment*>& segments,
    const std::vector<std::string>& keys) {
  // The blocks of each segment that can hold a key: the last one that begins before it,
  // and every one that begins with it.
  std::vector<std::vector<std::pair<size_t, size_t>>> ranges(keys.size());
  std::map<std::pair<size_t, size_t>, size_t> wanted_at;  // by segment and block number
  std::vector<std::pair<const pb::SearchSegment*, size_t>> wanted;
  for (size_t k = 0; k < keys.size(); ++k) {
    for (size_t s = 0; s < segments.size(); ++s) {
      const auto& first = segments[s]->first_keys();
      size_t lo = std::lower_bound(first.begin(), first.end(), keys[k]) - first.begin();
      const size_t hi = std::upper_bound(first.begin(), first.end(), keys[k]) - first.begin();
      if (lo > 0) --lo;
      ranges[k].emplace_back(lo, hi);
      for (size_t n = lo; n < hi; ++n) {
        if (wanted_at.try_emplace({s, n}, wanted.size()).second)
          wanted.emplace_back(segments[s], n);
      }
    }
  }
  auto blocks = ReadBlocks(kvs, row, wanted);
  if (!blocks.ok()) return blocks.status();
  std::vector<std::vector<PackedPostings>> located(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    for (size_t s = 0; s < segments.size(); ++s) {
      PackedPostings& postings = located[k].emplace_back();
      for (size_t n = ranges[k][s].first; n < ranges[k][s].second; ++n) {
        const Block& block = (*blocks)[wanted_at.at({s, n})];
        // A block's postings are in key order (a block holds thousands of keys).
        const auto& in_block = block->postings();
        auto p = std::lower_bound(in_block.begin(), in_block.end(), keys[k],
                                  [](const pb::SearchPostings& a, std::string_view key) {
                                    return std::string_view(a.key()) < key;
                                  });
        for (; p != in_block.end() && p->key() == keys[k]; ++p) postings.Add(block, p->ids());
      }
    }
  }
  return located;
}

absl::StatusOr<PackedPostings> SegmentPackedPostings(kvs::Client& kvs, std::string_view row,
                                                     const pb::SearchSegment& segment,
                                                     std::string_view key) {
  auto located = LocatePackedPostings(kvs, row, {&segment}, {std::string(key)});
  if (!located.ok()) return located.status();
  return std::move((*located)[0][0]);
}

absl::StatusOr<std::vector<std::string>> SegmentPostings(kvs::Client& kvs, std::string_view row,
                                                         const pb::SearchSegment& segment,
                                                         std::string_view key) {
  auto packed = SegmentPackedPostings(kvs, row, segment, key);
  if (!packed.ok()) return packed.status();
  std::vector<std::string> ids;
  ids.reserve(packed->size());
  for (size_t i = 0; i < packed->size(); ++i) ids.push_back(packed->IdAt(i));
  return ids;
}

absl::Status ReadSegment(kvs::Client& kvs, std::string_view row, const pb::SearchSegment& segment,
                         const std::function<bool(const std::string&)>& keep, PostingMap* out) {
  std::vector<std::pair<const pb::SearchSegment*, size_t>> wanted;
  for (int n = 0; n < segment.first_keys_size(); ++n) wanted.emplace_back(&segment, n);
  auto blocks = ReadBlocks(kvs, row, wanted);
  if (!blocks.ok()) return blocks.status();
  for (const Block& block : *blocks) {
    for (const pb::SearchPostings& p : block->postings()) {
      std::vector<std::string> ids;
      AppendIds(p.ids(), &ids);
      std::vector<std::string>& list = (*out)[p.key()];
      for (std::string& id : ids) {
        if (keep(id)) list.push_back(std::move(id));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status DeleteSegment(kvs::Client& kvs, std::string_view row,
                           const pb::SearchSegment& segment) {
  return RunTogether(segment.first_keys_size(),
                     [&](size_t n) { return kvs.Delete(row, BlockColumn(segment.name(), n)); });
}

}  // namespace penncloud::mail
