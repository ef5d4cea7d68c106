// Sends the node's heartbeat (identity + load) to the coordinator every interval from a
// background thread. Losing the coordinator is not fatal: beats resume when it is back.
// Used by the frontend, and by the SMTP / POP3 servers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "http/server.h"
#include "proto/coordinator.pb.h"

namespace penncloud::frontend {

struct HeartbeatOptions {
  std::string coordinator;  // host:port of the coordinator's gRPC service
  std::string kind = "frontend";
  std::string address;  // where this node serves
  std::string name;
  int interval_ms = 1000;  // until the coordinator's first answer names its interval
};

class HeartbeatSender {
 public:
  // `load` is called once per beat, on the sender's thread.
  HeartbeatSender(HeartbeatOptions options, std::function<coordinator::pb::Load()> load);
  ~HeartbeatSender();  // stops the thread

  // Stops beating (idempotent). A draining node calls this first, so the coordinator
  // stops choosing it once its down-timeout passes.
  void Stop();

 private:
  void Loop();

  const HeartbeatOptions options_;
  std::function<coordinator::pb::Load()> load_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // GUARDED_BY(mu_)
  std::mutex join_mu_;  // Stop() may race the destructor
  std::thread thread_;
};

// Turns the server's running totals into the per-interval Load a heartbeat carries:
// requests per second and p99 latency since the previous report.
class LoadReporter {
 public:
  coordinator::pb::Load Report(const http::LoadStats& now);

 private:
  http::LoadStats last_;
  std::chrono::steady_clock::time_point last_at_ = std::chrono::steady_clock::now();
};

}  // namespace penncloud::frontend
