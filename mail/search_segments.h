// Segments: immutable inverted indexes over some of a user's messages, each a run of cells
// "s/<name>/<n>" of the user's index row (search_index.h). Block n (pb::SearchBlock) holds
// the postings of consecutive keys, from the segment's first_keys[n] on; a key with a long
// list continues into the next blocks, which then begin with that same key. A query reads
// only the blocks that can hold its keys, and since a segment is never rewritten, its
// blocks are cached in the process.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "proto/mail_search.pb.h"

namespace penncloud::mail {

// Key -> message ids (32 hex digits), ascending.
using PostingMap = std::map<std::string, std::vector<std::string>, std::less<>>;

// A fresh segment name: like a message id, its time first, so an orphan's age shows.
std::string NewSegmentName(int64_t now_micros);
// The name of the segment a cell "s/<name>/<n>" belongs to ("" if it is not one).
std::string_view SegmentOfColumn(std::string_view column);
inline constexpr std::string_view kSegmentPrefix = "s/";

// Writes `postings` (every list sorted) as segment `name` of `row`.
absl::StatusOr<pb::SearchSegment> WriteSegment(kvs::Client& kvs, std::string_view row,
                                               std::string name, const PostingMap& postings,
                                               int64_t messages);

// The ids with `key` in `segment`, ascending. kAborted if a block is gone (a compaction
// replaced the segment after the caller read the manifest: read it again).
absl::StatusOr<std::vector<std::string>> SegmentPostings(kvs::Client& kvs, std::string_view row,
                                                         const pb::SearchSegment& segment,
                                                         std::string_view key);

// One key's postings in one segment as the blocks store them, so a query can seek in a long
// list and decode only the ids it reads: runs of 16-byte ids, ascending across the runs,
// pointing into the (cached, immutable) blocks held here.
class PackedPostings {
 public:
  static constexpr size_t kIdBytes = 16;

  void Add(std::shared_ptr<const pb::SearchBlock> block, std::string_view run);
  // The position of the first id (32 hex digits) greater than `after`, an id or any
  // string compared as one.
  size_t UpperBound(std::string_view after) const;
  size_t size() const { return size_; }
  std::string IdAt(size_t i) const;

 private:
  std::vector<std::shared_ptr<const pb::SearchBlock>> blocks_;
  std::vector<std::string_view> runs_;
  std::vector<size_t> run_starts_;  // the position of each run's first id
  size_t size_ = 0;
};

// Like SegmentPostings, without decoding the ids.
absl::StatusOr<PackedPostings> SegmentPackedPostings(kvs::Client& kvs, std::string_view row,
                                                     const pb::SearchSegment& segment,
                                                     std::string_view key);
// Every key's packed postings in every segment: [k][s] is keys[k]'s in segments[s]. The
// blocks not cached are read from the store together, each once.
absl::StatusOr<std::vector<std::vector<PackedPostings>>> LocatePackedPostings(
    kvs::Client& kvs, std::string_view row, const std::vector<const pb::SearchSegment*>& segments,
    const std::vector<std::string>& keys);

// Adds every posting of `segment` whose id passes `keep` to `out`, unsorted.
absl::Status ReadSegment(kvs::Client& kvs, std::string_view row, const pb::SearchSegment& segment,
                         const std::function<bool(const std::string&)>& keep, PostingMap* out);

absl::Status DeleteSegment(kvs::Client& kvs, std::string_view row,
                           const pb::SearchSegment& segment);

}  // namespace penncloud::mail
