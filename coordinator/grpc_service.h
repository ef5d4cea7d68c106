// The coordinator's gRPC service (proto/coordinator.proto) over the Registry.
#pragma once

#include "coordinator/registry.h"
#include "proto/coordinator.grpc.pb.h"

namespace penncloud::coordinator {

class CoordinatorService final : public pb::Coordinator::Service {
 public:
  explicit CoordinatorService(Registry* registry) : registry_(registry) {}

  grpc::Status Heartbeat(grpc::ServerContext* context, const pb::HeartbeatRequest* request,
                         pb::HeartbeatResponse* response) override;
  grpc::Status ListNodes(grpc::ServerContext* context, const pb::ListNodesRequest* request,
                         pb::ListNodesResponse* response) override;

 private:
  Registry* registry_;
};

}  // namespace penncloud::coordinator
