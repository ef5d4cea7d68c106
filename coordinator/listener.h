// Accepts the proxy's client connections on one port and spreads them over the I/O
// threads' io_contexts, round-robin.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace penncloud::coordinator {

class Listener {
 public:
  // Called on the accepting thread with a socket bound to contexts[thread].
  using OnAccept = std::function<void(boost::asio::ip::tcp::socket, size_t thread)>;

  // The acceptor runs on contexts[0]; `contexts` must outlive the listener.
  Listener(const std::vector<std::unique_ptr<boost::asio::io_context>>& contexts,
           OnAccept on_accept);

  absl::Status Listen(const std::string& address, uint16_t port);
  uint16_t port() const;
  void Start();
  // Stops accepting; call on contexts[0]'s thread.
  void Close();

 private:
  void Accept();
  void DrainBacklog();
  size_t NextThread() { return next_thread_++ % contexts_.size(); }

  const std::vector<std::unique_ptr<boost::asio::io_context>>& contexts_;
  OnAccept on_accept_;
  boost::asio::ip::tcp::acceptor acceptor_;
  size_t next_thread_ = 0;  // only touched by contexts_[0]'s thread
};

}  // namespace penncloud::coordinator
