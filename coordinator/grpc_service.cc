#include "coordinator/grpc_service.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace penncloud::coordinator {

grpc::Status CoordinatorService::Heartbeat(grpc::ServerContext*,
                                           const pb::HeartbeatRequest* request,
                                           pb::HeartbeatResponse* response) {
  if (request->address().empty() || request->kind().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "kind and address are required");
  }
  NodeLoad load{request->load().in_flight(), request->load().requests_per_second(),
                request->load().connections(), request->load().p99_ms()};
  registry_->Beat(request->kind(), request->address(), request->name(), load,
                  request->started_unix_ms(), Clock::now(), absl::ToUnixMillis(absl::Now()));
  if (!request->version().empty()) registry_->SetVersion(request->address(), request->version());
  response->set_interval_ms(static_cast<int32_t>(registry_->options().interval.count()));
  response->set_down_after_ms(static_cast<int32_t>(registry_->options().down_after.count()));
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::ListNodes(grpc::ServerContext*,
                                           const pb::ListNodesRequest* request,
                                           pb::ListNodesResponse* response) {
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
