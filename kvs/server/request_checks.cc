#include "kvs/server/request_checks.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/grpc_authz.h"
#include "kvs/client/client.h"
#include "kvs/shard/config_store.h"

namespace penncloud::kvs::server {

using tls::Role;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "kvs: " + message);
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::Status CheckCell(const std::string& row, const std::string& column) {
  if (row.empty()) return Invalid("empty row");
  if (row.size() > kMaxKeyBytes) {
    return Invalid(absl::StrCat("row of ", row.size(), " bytes exceeds ", kMaxKeyBytes));
  }
  if (column.size() > kMaxKeyBytes) {
    return Invalid(absl::StrCat("column of ", column.size(), " bytes exceeds ", kMaxKeyBytes));
  }
  return grpc::Status::OK;
}

grpc::Status CheckListLimit(int limit) {
  if (limit >= 1 && limit <= kMaxListLimit) return grpc::Status::OK;
  return Invalid(absl::StrCat("list limit ", limit, " not in 1..", kMaxListLimit));
}

grpc::Status CheckWatchRequest(const pb::WatchRequest& request) {
  if (request.timeout_ms() < 0 || request.timeout_ms() > kMaxWatchTimeout.count()) {
    return Invalid(absl::StrCat("watch timeout ", request.timeout_ms(), " ms not in 0..",
                                kMaxWatchTimeout.count()));
  }
  std::vector<WatchedCell> known;
  known.reserve(request.known_size());
  for (const pb::WatchedCell& cell : request.known()) {
    known.push_back(WatchedCell{
        cell.column(), cell.found() ? std::optional<std::string>(cell.value()) : std::nullopt});
  }
  return ToGrpc(CheckWatch(request.row(), known));
}

grpc::Status CheckCommand(const pb::Command& c) {
  if (c.op() != pb::OP_PUT && c.op() != pb::OP_CPUT && c.op() != pb::OP_DELETE &&
      c.op() != pb::OP_CDELETE) {
    return Invalid(absl::StrCat("unknown or unsupported op ", static_cast<int>(c.op()),
                                " (want PUT, CPUT, DELETE or CDELETE)"));
  }
  if (c.op() == pb::OP_CDELETE && c.expect_absent()) {
    return Invalid("CDELETE compares with a value; expect_absent makes no sense there");
  }
  if (grpc::Status s = CheckCell(c.row(), c.column()); !s.ok()) return s;
  if (c.value().size() > kMaxValueBytes || c.expected().size() > kMaxValueBytes) {
    return Invalid(absl::StrCat("value exceeds the limit of ", kMaxValueBytes, " bytes"));
  }
  if (c.session() == 0 || c.seq() == 0) {
    return Invalid("write without (session, seq): every write must carry its at-most-once id");
  }
  return grpc::Status::OK;
}

grpc::Status CheckMembershipChange(const pb::ChangeMembershipRequest& request) {
  const pb::Member& m = request.member();
  if (request.change() == pb::MEMBERSHIP_UNSPECIFIED) {
    return Invalid("membership change without a kind (add learner, promote or remove)");
  }
  if (m.id() == 0) return Invalid("membership change without a replica id (ids start at 1)");
  if (request.change() == pb::MEMBERSHIP_ADD_LEARNER &&
      (m.peer_address().find(':') == std::string::npos ||
       m.address().find(':') == std::string::npos)) {
    return Invalid("adding a replica needs its peer and client addresses as host:port");
  }
  return grpc::Status::OK;
}

grpc::Status AuthorizeWrites(const grpc::ServerContextBase& context, absl::string_view rpc,
                             const std::vector<const pb::Command*>& commands) {
  std::optional<tls::Identity> caller;
  grpc::Status s =
      tls::Authorize(context, rpc, {Role::kService, Role::kCoordinator, Role::kAdmin}, &caller);
  if (!s.ok() || !caller || caller->role != Role::kService) return s;
  for (const pb::Command* c : commands) {
    if (c->row() == shard::kMapRow) {
      return tls::Deny(context, rpc, "the cluster map's row is not a service's to write");
    }
  }
  return grpc::Status::OK;
}

grpc::Status AuthorizeReads(const grpc::ServerContextBase& context, absl::string_view rpc) {
  return tls::Authorize(context, rpc,
                        {Role::kService, Role::kCoordinator, Role::kAdmin, Role::kReplica});
}

grpc::Status AuthorizeOperator(const grpc::ServerContextBase& context, absl::string_view rpc) {
  return tls::Authorize(context, rpc, {Role::kCoordinator, Role::kAdmin});
}

}  // namespace penncloud::kvs::server
