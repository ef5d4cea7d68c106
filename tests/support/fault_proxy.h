// A userspace TCP proxy that can cut a link, for partition tests (the kernel here has no
// netem). It listens on a free loopback port and forwards every connection to `target`.
// While blocked it closes every connection it carries and refuses new ones at once, which
// is what a network partition looks like to gRPC (it then keeps reconnecting).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace penncloud::testing {

class FaultProxy {
 public:
  // Forwards 127.0.0.1:<port()> to 127.0.0.1:target_port.
  explicit FaultProxy(int target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  void SetBlocked(bool blocked);
  bool blocked() const { return blocked_; }

 private:
  struct Link;
  void AcceptLoop();
  void CloseAll();

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> blocked_{false};
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Link>> links_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::testing
