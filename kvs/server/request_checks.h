// What a replica checks of a call before it touches the loop: the caller's role (docs/
// security.md, "Inside the cluster") and the request's shape and limits (docs/kvs.md,
// "Limits"). Pure functions of the request and the caller's certificate.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::server {

inline constexpr int kMaxListLimit = 1000;

grpc::Status Invalid(std::string message);
grpc::Status ToGrpc(const absl::Status& status);

grpc::Status CheckCell(const std::string& row, const std::string& column);
grpc::Status CheckListLimit(int limit);
// A watch: the bounds of kvs::CheckWatch, a timeout in 0..kMaxWatchTimeout.
grpc::Status CheckWatchRequest(const pb::WatchRequest& request);
// A client write: a data op, cells and values within the limits, an at-most-once id.
grpc::Status CheckCommand(const pb::Command& c);
// A node membership change: a kind, a replica id, and addresses for a new replica.
grpc::Status CheckMembershipChange(const pb::ChangeMembershipRequest& request);

// Data writes come from the services, the coordinator and operators; the cluster map's
// row changes only through the coordinator or an operator.
grpc::Status AuthorizeWrites(const grpc::ServerContextBase& context, absl::string_view rpc,
                             const std::vector<const pb::Command*>& commands);
grpc::Status AuthorizeReads(const grpc::ServerContextBase& context, absl::string_view rpc);
grpc::Status AuthorizeOperator(const grpc::ServerContextBase& context, absl::string_view rpc);

}  // namespace penncloud::kvs::server
