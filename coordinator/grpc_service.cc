#include "coordinator/grpc_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_authz.h"

namespace penncloud::coordinator {

namespace {

// A heartbeat puts its sender in the :8000 rotation (or the mail tables), so it must come
// from a frontend or mail server certificate of the same kind and name, announcing an
// address its certificate names: a stolen SMTP certificate cannot pose as a frontend, and
// no certificate can draw traffic to an address it does not hold.
grpc::Status AuthorizeHeartbeat(const grpc::ServerContext& context,
                                const pb::HeartbeatRequest& request) {
  std::optional<tls::Identity> caller;
  grpc::Status s = tls::Authorize(context, "Heartbeat", {tls::Role::kService}, &caller);
  if (!s.ok() || !caller) return s;
  if (request.kind() != caller->kind || request.name() != caller->name) {
    return tls::Deny(context, "Heartbeat",
                     absl::StrCat("a ", request.kind(), " named '", request.name(),
                                  "' from the certificate of ", caller->Path()));
  }
  const std::string host = request.address().substr(0, request.address().rfind(':'));
  const std::vector<std::string> own = tls::CallerAddresses(context);
  if (std::find(own.begin(), own.end(), host) == own.end()) {
    return tls::Deny(context, "Heartbeat",
                     absl::StrCat("address ", request.address(), " is not in the certificate of ",
                                  caller->Path()));
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status CoordinatorService::Heartbeat(grpc::ServerContext* context,
                                           const pb::HeartbeatRequest* request,
                                           pb::HeartbeatResponse* response) {
  if (request->address().empty() || request->kind().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "kind and address are required");
  }
  if (grpc::Status s = AuthorizeHeartbeat(*context, *request); !s.ok()) return s;
  NodeLoad load{request->load().in_flight(), request->load().requests_per_second(),
                request->load().connections(), request->load().p99_ms()};
  registry_->Beat(request->kind(), request->address(), request->name(), load,
                  request->started_unix_ms(), Clock::now(), absl::ToUnixMillis(absl::Now()));
  if (!request->version().empty()) registry_->SetVersion(request->address(), request->version());
  if (std::optional<tls::CertificateInfo> certificate =
          tls::PeerCertificate(context->auth_context().get())) {
    registry_->SetCertificate(request->address(), *certificate);
  }
  response->set_interval_ms(static_cast<int32_t>(registry_->options().interval.count()));
  response->set_down_after_ms(static_cast<int32_t>(registry_->options().down_after.count()));
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::ListNodes(grpc::ServerContext* context,
                                           const pb::ListNodesRequest* request,
                                           pb::ListNodesResponse* response) {
  if (grpc::Status s =
          tls::Authorize(*context, "ListNodes", {tls::Role::kCoordinator, tls::Role::kAdmin});
      !s.ok()) {
    return s;
  }
  for (const NodeState& n : registry_->Snapshot(request->kind(), Clock::now())) {
    pb::NodeInfo* info = response->add_nodes();
    info->set_kind(n.kind);
    info->set_address(n.address);
    info->set_name(n.name);
    info->set_healthy(n.healthy);
    info->mutable_load()->set_in_flight(n.load.in_flight);
    info->mutable_load()->set_requests_per_second(n.load.requests_per_second);
    info->mutable_load()->set_connections(n.load.connections);
    info->mutable_load()->set_p99_ms(n.load.p99_ms);
    info->set_last_heartbeat_unix_ms(n.last_beat_unix_ms);
    info->set_started_unix_ms(n.started_unix_ms);
    info->set_version(n.version);
  }
  return grpc::Status::OK;
}

}  // namespace penncloud::coordinator
