// A daily look at every account's drive, so trash and old versions expire for users who
// stopped writing.
//
// Expiry runs in a frontend's drive collector (drive/garbage.cc), which looks at a user
// only after that frontend has seen them write, and forgets them when it restarts: the
// trash of a user who went quiet was kept for ever, and counted toward their quota. So once
// per interval, across the whole cluster, one frontend hands every account to `visit` (the
// drive's collection). Frontends take turns through one store cell holding the start of the
// last pass, moved forward only by compare-and-put: the frontend that moves it runs the
// pass. One that dies half-way leaves the rest of the accounts to the next interval, so an
// item expires at most about one interval late.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::frontend {

struct RetentionPassOptions {
  std::chrono::milliseconds interval = std::chrono::hours(24);
  // How often this frontend asks whether a pass is due (0: never by itself; RunIfDue only).
  std::chrono::milliseconds check_every = std::chrono::minutes(10);
  // Wall clock in ms since the epoch; the system's when empty (tests set their own).
  std::function<int64_t()> now_ms;
};

class RetentionPass {
 public:
  RetentionPass(kvs::Client* store, std::function<void(const std::string& user)> visit,
                RetentionPassOptions options = {});
  ~RetentionPass();
  RetentionPass(const RetentionPass&) = delete;
  RetentionPass& operator=(const RetentionPass&) = delete;

  // Runs a pass if one is due and this frontend wins it; returns how many accounts it
  // visited (0: not due, or another frontend's turn).
  absl::StatusOr<int> RunIfDue();

 private:
  absl::StatusOr<bool> Claim(int64_t now);
  absl::StatusOr<int> VisitEveryAccount();
  bool Stopping();
  void Loop();

  kvs::Client* store_;
  std::function<void(const std::string&)> visit_;
  RetentionPassOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace penncloud::frontend
