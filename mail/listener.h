// The accept side that PennCloud's line-based mail servers (SMTP, POP3) share: a listening
// socket, one thread per accepted connection, caps on connections in all and per client
// address, an idle timeout, and a Stop() that lets busy sessions finish within a bound.
// What a connection says is the caller's `Serve`; the listener owns when it may start and
// how it ends.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "mail/address_limits.h"

namespace penncloud::mail {

// Opens `acceptor` listening on address:port (port 0: any free port), for Listener and the
// IMAP server alike.
absl::Status Listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, int port);

struct ListenerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port (see Listener::port)
  int max_connections = 256;
  std::chrono::seconds idle_timeout{300};
  // Sent to connections over a cap. Left unsaid on implicit-TLS ports, where the client
  // expects a handshake, not text.
  std::string busy_reply;
  bool implicit_tls = false;
  std::function<void()> on_refused;  // called per connection refused over a cap
  // Per-address connection caps, shared with the process's other listeners; null: none.
  AddressLimits* limits = nullptr;
};

class Listener {
 public:
  // Runs on the connection's own thread; the listener closes the socket after it returns.
  using Serve = std::function<void(boost::asio::ip::tcp::socket& socket, uint64_t id,
                                   const std::string& peer)>;

  Listener(ListenerOptions options, Serve serve);
  ~Listener();

  absl::Status Start();
  // Stops accepting and drains: sessions not marked busy have their reads ended at once
  // (their Serve says goodbye over the still-open write side); busy ones are closed when
  // they report they are done (ClosingForShutdown) or after `drain`. Then waits for the
  // connection threads.
  void Stop(std::chrono::milliseconds drain);
  int port() const { return port_; }
  size_t connections();
  bool stopping() const { return stopping_; }

  // Serve calls these: input arrived (resets the idle timeout); and, after each batch of
  // replies, whether the session is busy. True: a shutdown is waiting for it to close now.
  void Touch(uint64_t id);
  bool ClosingForShutdown(uint64_t id, bool busy);

 private:
  void AcceptLoop();
  void ReapIdle();
  void Run(boost::asio::ip::tcp::socket socket, uint64_t id, std::string peer);

  const ListenerOptions options_;
  const Serve serve_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  int port_ = 0;
  std::thread accept_thread_;
  std::thread reaper_thread_;
  std::atomic<bool> stopping_{false};

  struct Connection {
    int fd;
    std::chrono::steady_clock::time_point last_active;
    bool busy = false;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  bool draining_ = false;                       // GUARDED_BY(mu_)
  std::map<uint64_t, Connection> connections_;  // GUARDED_BY(mu_)
  uint64_t next_id_ = 0;                        // GUARDED_BY(mu_)
};

}  // namespace penncloud::mail
