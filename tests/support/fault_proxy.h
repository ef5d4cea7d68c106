// A userspace TCP proxy that can cut a link or slow it down, for partition and latency tests
// (the kernel here has no netem). It forwards every connection it accepts to its target.
// While blocked it closes every connection it carries and refuses new ones at once, which
// is what a network partition looks like to gRPC (it then keeps reconnecting). A delay holds
// every byte that long in each direction, as a longer wire would; connection set-up itself is
// not delayed (internal channels are long-lived). While held, it passes nothing on but keeps
// every connection open, like a firewall that silently drops a link's packets: callers wait
// out their deadlines instead of failing at once, and what they sent arrives late, in order,
// when the hold ends (as TCP delivers what it retransmitted once the drop rule is lifted).
//
// A proxy carries one direction of dialling: the connections one replica opens to another.
// Holding or blocking it cuts that direction whole, requests and their answers alike. For
// gRPC nothing finer means anything (an RPC whose answer is held is an RPC that failed,
// and HTTP/2 needs both directions to move at all), so a one-way cut between two peers that
// each call the other on a channel of its own is made by cutting one of those two channels.
#pragma once

#include <atomic>
#include <chrono>
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
  // Forwards listen_host:<port()> (a free port) to target_host:target_port; IPv4 addresses.
  FaultProxy(const std::string& listen_host, const std::string& target_host, int target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  void SetBlocked(bool blocked);
  bool blocked() const { return blocked_; }
  // Holds every byte (new connections are accepted and held too); releasing passes on
  // what was held, in order, then carries on as before.
  void SetHeld(bool held) { held_ = held; }
  bool held() const { return held_; }
  // One-way delay, applied to bytes read from now on (order is kept when it shrinks).
  void SetDelay(std::chrono::microseconds delay) { delay_us_ = delay.count(); }

 private:
  struct Link;
  void AcceptLoop();
  void CloseAll();

  const std::string target_host_;
  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> blocked_{false};
  std::atomic<bool> held_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> delay_us_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Link>> links_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::testing
