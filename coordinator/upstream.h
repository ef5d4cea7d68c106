// One frontend as the proxy sees it, and its idle keep-alive connections.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace penncloud::coordinator {

struct IdleSocket {
  boost::asio::ip::tcp::socket socket;
  std::chrono::steady_clock::time_point since;
};

// Entries are created once per address and never freed (the set of frontends is small),
// so sessions hold plain pointers to them.
struct Upstream {
  Upstream(std::string a, size_t threads) : address(std::move(a)), idle(threads) {}
  const std::string address;
  // Requests this proxy has in flight to the frontend. An atomic, not a map under a mutex:
  // every request reads it for each candidate and changes it twice.
  std::atomic<int64_t> active{0};
  std::mutex mu;
  // Per I/O thread: a socket belongs to the io_context it was opened on, and a session
  // only takes sockets of its own, so no completion ever crosses threads.
  std::vector<std::vector<IdleSocket>> idle;  // GUARDED_BY(mu)
};

struct Candidate {
  Upstream* upstream;
  int64_t in_flight;  // as last reported by the frontend's heartbeat
};

}  // namespace penncloud::coordinator
