// Many cells read together by a caller that needs them all before it goes on (a page of
// search matches checked against the drive's tree). Each read is started with
// Client::StartGet, so the reads share the client's batches and no thread waits on any one
// of them; only the few that one quick attempt left unsettled (the leader moved, a sharded
// client's map is stale) are read again with Get, which retries.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::kvs {

struct CellAddress {
  std::string row;
  std::string column;
};

// The value of every cell, in the order asked, each as Get would return it (kNotFound for a
// cell that does not exist).
std::vector<absl::StatusOr<std::string>> GetAtOnce(Client& kvs,
                                                   const std::vector<CellAddress>& cells);

}  // namespace penncloud::kvs
