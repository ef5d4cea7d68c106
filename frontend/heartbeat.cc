#include "frontend/heartbeat.h"

#include <chrono>

#include "common/log.h"
#include "common/version.h"
#include "grpcpp/grpcpp.h"
#include "proto/coordinator.grpc.pb.h"

namespace penncloud::frontend {

HeartbeatSender::HeartbeatSender(HeartbeatOptions options,
                                 std::function<coordinator::pb::Load()> load)
    : options_(std::move(options)), load_(std::move(load)), thread_([this] { Loop(); }) {}

HeartbeatSender::~HeartbeatSender() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HeartbeatSender::Loop() {
  auto channel = grpc::CreateChannel(options_.coordinator, grpc::InsecureChannelCredentials());
  auto stub = coordinator::pb::Coordinator::NewStub(channel);
  const int64_t started = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  bool connected = false;
  int interval_ms = options_.interval_ms;
  while (true) {
    coordinator::pb::HeartbeatRequest req;
    req.set_kind(options_.kind);
    req.set_address(options_.address);
    req.set_name(options_.name);
    req.set_started_unix_ms(started);
    req.set_version(std::string(Version()));
    *req.mutable_load() = load_();
    coordinator::pb::HeartbeatResponse res;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    grpc::Status status = stub->Heartbeat(&ctx, req, &res);
    if (status.ok() != connected) {
      connected = status.ok();
      PC_LOG(kInfo, connected ? "heartbeat.connected" : "heartbeat.lost")
      ("coordinator", options_.coordinator)("error", status.error_message());
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stop_; })) {
      return;
    }
  }
}

}  // namespace penncloud::frontend
