// Read access to one replica group for operators and the admin console: the rows it
// stores, the columns and cells of a row, and every replica's status. Calls go to the
// group's leader and follow it like every other call of ReplicaGroupClient (whose retry
// loop this reuses); reads are served from the leader's applied state, one page at a time.
//
//   GroupAdmin admin({"127.0.0.1:7011", "127.0.0.1:7012", "127.0.0.1:7013"});
//   auto page = admin.ListRows(/*after=*/"", /*limit=*/100);
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/replica_group_client.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs {

struct RowPage {
  std::vector<std::string> rows;  // in store order
  bool more = false;              // rows beyond the last one returned exist
};

class GroupAdmin {
 public:
  // `addresses`: the client addresses of the group's replicas.
  explicit GroupAdmin(std::vector<std::string> addresses, ReplicaGroupOptions options = {});

  // Up to `limit` (1..1000) rows strictly after `after` ("" = from the first).
  absl::StatusOr<RowPage> ListRows(std::string_view after, int limit);
  // The columns (and values, if asked) of one row; kFailedPrecondition "wrong group" if
  // the group does not serve the row.
  absl::StatusOr<ColumnPage> ListColumns(std::string_view row, const ListOptions& options);
  // One cell's value; kNotFound if it does not exist.
  absl::StatusOr<std::string> GetCell(std::string_view row, std::string_view column);

  // Every replica's status, in the order of `addresses` (an unreachable one: its error).
  std::vector<std::pair<std::string, absl::StatusOr<pb::StatusResponse>>> StatusAll();
  // The status of the replica that leads in the highest ballot seen; kUnavailable if no
  // reachable replica is leader.
  absl::StatusOr<pb::StatusResponse> LeaderStatus();

  ReplicaGroupClient& client() { return client_; }

 private:
  ReplicaGroupClient client_;
};

}  // namespace penncloud::kvs
