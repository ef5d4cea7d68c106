// The accepting half of every HTTP server in PennCloud (the frontend, the coordinator's
// :8000 and :8443, the metrics endpoints): binds, listens, accepts, and hands each
// connection's socket to its owner, spread round-robin over lanes (an I/O thread's own
// io_context, or a fresh strand of a shared one). What a connection then does is its
// owner's business.
//
// Draining on SIGTERM is the same for every server too: Close() so new connections are
// refused (a client, or the coordinator, retries elsewhere at once), then AwaitIdle() on
// the server's count of requests in flight, then stop the I/O.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace penncloud::http {

class Listener {
 public:
  using Executor = boost::asio::any_io_executor;
  using Socket = boost::asio::ip::tcp::socket;
  // The executor a connection accepted for `lane` (0 .. lanes-1) is bound to.
  using LaneExecutor = std::function<Executor(size_t lane)>;
  // Called on the acceptor's executor with a new connection (TCP_NODELAY set) and its lane.
  using OnAccept = std::function<void(Socket socket, size_t lane)>;

  Listener(Executor acceptor_executor, size_t lanes, LaneExecutor lane_executor,
           OnAccept on_accept);

  // Binds `address` (an IP literal) and `port` (0: any free port) and listens.
  absl::Status Listen(const std::string& address, uint16_t port);
  uint16_t port() const;
  // Starts accepting; Listen first.
  void Start();
  // Stops accepting and waits (up to a second) until the acceptor is closed, so that from
  // then on connections are refused rather than left in the listen backlog. Call from any
  // thread but the acceptor's.
  void Close();

 private:
  void Accept();
  void DrainBacklog();
  size_t NextLane() { return next_lane_++ % lanes_; }

  size_t lanes_;
  LaneExecutor lane_executor_;
  OnAccept on_accept_;
  boost::asio::ip::tcp::acceptor acceptor_;
  size_t next_lane_ = 0;  // only touched on the acceptor's executor
};

// Waits until `in_flight` reaches zero or `grace` has passed; false if requests remain.
bool AwaitIdle(const std::atomic<int64_t>& in_flight, std::chrono::milliseconds grace);

}  // namespace penncloud::http
