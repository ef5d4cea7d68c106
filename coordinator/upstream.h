// One frontend as the proxy sees it, and its idle keep-alive connections.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace penncloud::coordinator {

struct IdleSocket {
  boost::asio::ip::tcp::socket socket;
  std::chrono::steady_clock::time_point since;
};

// One I/O thread's idle connections to a frontend. Only that thread touches them (a socket
// belongs to the io_context it was opened on, and a session only takes sockets of its own),
// so no lock; a line of its own, so two threads' lists never share a cache line.
struct alignas(64) IdleList {
  std::vector<IdleSocket> sockets;
  uint64_t generation = 0;  // Upstream::forgotten when these were last checked
};

// Entries are created once per address and never freed (the set of frontends is small),
// so sessions hold plain pointers to them.
struct Upstream {
  Upstream(std::string a, size_t threads) : address(std::move(a)), idle(threads) {}
  const std::string address;
  // Requests this proxy has in flight to the frontend. An atomic, not a map under a mutex:
  // every request reads it for each candidate and changes it twice.
  std::atomic<int64_t> active{0};
  // Raised when the frontend failed: each thread drops its idle connections to it the next
  // time it looks at them (dropping them here would touch other threads' lists).
  std::atomic<uint64_t> forgotten{0};
  std::vector<IdleList> idle;  // per I/O thread
};

struct Candidate {
  Upstream* upstream;
  int64_t in_flight;  // as last reported by the frontend's heartbeat
};

}  // namespace penncloud::coordinator
