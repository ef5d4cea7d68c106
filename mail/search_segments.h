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

// Adds every posting of `segment` whose id passes `keep` to `out`, unsorted.
absl::Status ReadSegment(kvs::Client& kvs, std::string_view row, const pb::SearchSegment& segment,
                         const std::function<bool(const std::string&)>& keep, PostingMap* out);

absl::Status DeleteSegment(kvs::Client& kvs, std::string_view row,
                           const pb::SearchSegment& segment);

}  // namespace penncloud::mail
