// Which group serves a row (docs/sharding.md section 5): the group's applied cluster map,
// overruled by the newest migration of its table that covers the row. One function, used
// by the replica server for reads and writes and by the state machine's hooks, so every
// replica and the simulator judge alike.
#pragma once

#include <cstdint>
#include <string>

#include "kvs/shard/cluster_map.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::machine {

enum class Verdict {
  kServe,
  kWrongGroup,   // another group serves the row: the client refreshes its map
  kUnavailable,  // this group will serve it soon (frozen or arriving): the client retries
};

// How group `group` answers a request for the row at ring position `position`, given the
// map it applied (nullptr: none) and its migration table. Group 0 (the config group, or an
// unsharded group) serves every row. `why` says why when the answer is not kServe.
Verdict Judge(uint64_t group, const shard::ClusterMap* map, const pb::MigrationTable& table,
              uint64_t position, bool write, std::string* why);

// Whether ring position `p` lies in the entry's range (start, end], wrapping when
// start >= end (start == end: the whole ring).
bool InRange(const pb::MigrationEntry& range, uint64_t p);

}  // namespace penncloud::kvs::machine
