#include "heartbeat/sender.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/version.h"
#include "grpcpp/grpcpp.h"
#include "proto/coordinator.grpc.pb.h"

namespace penncloud::heartbeat {

std::vector<std::string> ParseCoordinatorList(const std::string& flag) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(flag, ',')) {
    std::string address(absl::StripAsciiWhitespace(part));
    if (!address.empty() && std::find(out.begin(), out.end(), address) == out.end()) {
      out.push_back(std::move(address));
    }
  }
  return out;
}

HeartbeatSender::HeartbeatSender(HeartbeatOptions options,
                                 std::function<coordinator::pb::Load()> load)
    : options_(std::move(options)),
      started_unix_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count()),
      load_(std::move(load)) {
  for (const std::string& coordinator : options_.coordinators) {
    threads_.emplace_back([this, &coordinator] { Loop(coordinator); });
  }
}

HeartbeatSender::~HeartbeatSender() { Stop(); }

void HeartbeatSender::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  std::lock_guard lock(join_mu_);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

coordinator::pb::Load HeartbeatSender::CurrentLoad(std::chrono::milliseconds fresh_for) {
  std::lock_guard lock(load_mu_);
  auto now = std::chrono::steady_clock::now();
  if (!have_load_ || now - last_load_at_ >= fresh_for) {
    last_load_ = load_();
    last_load_at_ = now;
    have_load_ = true;
  }
  return last_load_;
}

void HeartbeatSender::Loop(const std::string& coordinator) {
  // gRPC's reconnect back-off grows to two minutes by default; a coordinator back from a
  // crash must hear from every node within about a second to rebuild its table.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  // gRPC also takes this as the least time a connection attempt (TCP and TLS handshake)
  // gets: a few ms never complete on a loaded machine (the multi-host test saw it).
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto channel = grpc::CreateCustomChannel(coordinator, tls::ChannelCredentials(), args);
  auto stub = coordinator::pb::Coordinator::NewStub(channel);
  static metrics::CounterFamily& sent = metrics::Default().Counter(
      "heartbeats_sent_total", "heartbeats sent, by coordinator and result",
      {"coordinator", "result"});
  bool connected = false;
  int interval_ms = options_.interval_ms;
  while (true) {
    coordinator::pb::HeartbeatRequest req;
    req.set_kind(options_.kind);
    req.set_address(options_.address);
    req.set_name(options_.name);
    req.set_started_unix_ms(started_unix_ms_);
    req.set_version(std::string(Version()));
    *req.mutable_load() = CurrentLoad(std::chrono::milliseconds(interval_ms / 2));
    coordinator::pb::HeartbeatResponse res;
    grpc::ClientContext ctx;
    // Well under the interval: a coordinator that does not answer in time is late for
    // this beat only.
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    grpc::Status status = stub->Heartbeat(&ctx, req, &res);
    sent.With({coordinator, status.ok() ? "ok" : "failed"}).Inc();
    // The coordinator sets the pace: it counts missed beats against its own interval.
    if (status.ok() && res.interval_ms() >= 10 && res.interval_ms() <= 60000) {
      interval_ms = res.interval_ms();
    }
    if (status.ok() != connected) {
      connected = status.ok();
      PC_LOG(kInfo, connected ? "heartbeat.connected" : "heartbeat.lost")
      ("coordinator", coordinator)("error", status.error_message());
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stop_; })) {
      return;
    }
  }
}

}  // namespace penncloud::heartbeat
