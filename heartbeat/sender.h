// Sends the node's heartbeat (identity + load) to every coordinator each interval. Each
// coordinator has a thread and a channel of its own, so a dead or hung coordinator delays
// nobody's beats but its own. Losing a coordinator is not fatal: beats to it resume when
// it is back. Used by the frontend, and by the SMTP / POP3 / IMAP servers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proto/coordinator.pb.h"

namespace penncloud::heartbeat {

struct HeartbeatOptions {
  std::vector<std::string> coordinators;  // host:port of each coordinator's gRPC service
  std::string kind = "frontend";
  std::string address;  // where this node serves
  std::string name;
  int interval_ms = 1000;  // until a coordinator's first answer names its interval
};

// The --coordinator flag's list: "host:port[,host:port...]", blanks and repeats dropped.
std::vector<std::string> ParseCoordinatorList(const std::string& flag);

class HeartbeatSender {
 public:
  // `load` gives the load to report; it is called from the senders' threads, one call at a
  // time, and at most about once per interval whatever the number of coordinators.
  HeartbeatSender(HeartbeatOptions options, std::function<coordinator::pb::Load()> load);
  ~HeartbeatSender();  // stops the threads

  // Stops beating (idempotent). A draining node calls this first, so the coordinators
  // stop choosing it once their down-timeout passes.
  void Stop();

 private:
  void Loop(const std::string& coordinator);
  // The load to send now: the last one measured if it is younger than `fresh_for`, so
  // every coordinator hears about the same interval rather than a slice of it.
  coordinator::pb::Load CurrentLoad(std::chrono::milliseconds fresh_for);

  const HeartbeatOptions options_;
  const int64_t started_unix_ms_;
  std::function<coordinator::pb::Load()> load_;
  std::mutex load_mu_;
  coordinator::pb::Load last_load_;                     // GUARDED_BY(load_mu_)
  std::chrono::steady_clock::time_point last_load_at_;  // GUARDED_BY(load_mu_)
  bool have_load_ = false;                              // GUARDED_BY(load_mu_)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // GUARDED_BY(mu_)
  std::mutex join_mu_;  // Stop() may race the destructor
  std::vector<std::thread> threads_;
};

}  // namespace penncloud::heartbeat
