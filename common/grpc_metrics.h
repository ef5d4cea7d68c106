// Per-RPC metrics and logs for any gRPC server, as a server interceptor: every RPC is
// counted by method and status code with a latency histogram, and one that fails or runs
// longer than `slow_ms` is logged with the caller's request id (the "x-request-id"
// metadata the PennCloud KVS client sends), so a slow web request can be followed into
// the replica that held it up.
#pragma once

#include <memory>

#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/server_builder.h"

namespace penncloud::metrics {

// Metadata key (lower case, as gRPC requires) carrying the coordinator's request id.
inline constexpr char kRequestIdMetadata[] = "x-request-id";

struct GrpcServerMetricsOptions {
  int slow_ms = 500;  // RPCs at least this slow are logged (0: log every RPC)
};

// Installs the interceptor on a builder (before BuildAndStart).
void InstallGrpcServerMetrics(grpc::ServerBuilder& builder, GrpcServerMetricsOptions options = {});

// Installs it on every gRPC server this process builds from now on (through gRPC's server
// builder plugin hook), so a binary gets RPC metrics without reaching into the component
// that owns its server. Call once from main, before any server is built.
void InstallGrpcServerMetricsEverywhere(GrpcServerMetricsOptions options = {});

}  // namespace penncloud::metrics
