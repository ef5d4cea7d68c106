#include "frontend/heartbeat.h"

#include <chrono>

#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/version.h"
#include "grpcpp/grpcpp.h"
#include "proto/coordinator.grpc.pb.h"

namespace penncloud::frontend {

HeartbeatSender::HeartbeatSender(HeartbeatOptions options,
                                 std::function<coordinator::pb::Load()> load)
    : options_(std::move(options)), load_(std::move(load)), thread_([this] { Loop(); }) {}

HeartbeatSender::~HeartbeatSender() { Stop(); }

void HeartbeatSender::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  std::lock_guard lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void HeartbeatSender::Loop() {
  auto channel = grpc::CreateChannel(options_.coordinator, tls::ChannelCredentials());
  auto stub = coordinator::pb::Coordinator::NewStub(channel);
  const int64_t started = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  static metrics::CounterFamily& sent = metrics::Default().Counter(
      "heartbeats_sent_total", "heartbeats sent to the coordinator, by result", {"result"});
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
    sent.With({status.ok() ? "ok" : "failed"}).Inc();
    // The coordinator sets the pace: it counts missed beats against its own interval.
    if (status.ok() && res.interval_ms() >= 10 && res.interval_ms() <= 60000) {
      interval_ms = res.interval_ms();
    }
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

coordinator::pb::Load LoadReporter::Report(const http::LoadStats& now) {
  auto at = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(at - last_at_).count();
  coordinator::pb::Load load;
  load.set_in_flight(now.in_flight);
  load.set_connections(now.connections);
  load.set_requests_per_second(
      secs > 0 ? static_cast<double>(now.requests_total - last_.requests_total) / secs : 0);
  if (!now.latency.counts.empty()) {
    load.set_p99_ms(1000 *
                    metrics::Quantile(metrics::LatencyBuckets(), last_.latency, now.latency, 0.99));
  }
  last_ = now;
  last_at_ = at;
  return load;
}

}  // namespace penncloud::frontend
