// The TCP server around ImapSession. It differs from LineServer (SMTP, POP3) in the two
// ways IMAP needs: literals are passed through as raw bytes of any length (never split
// into lines), and a session waiting in IDLE is polled every `poll_interval` while its
// connection is quiet, so news reaches the client without any input. One thread per
// connection, blocking I/O; STARTTLS or TLS from the first byte (port 993-style);
// caps on connections in all and per client address; an idle timeout.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "mail/address_limits.h"
#include "mail/imap_session.h"

namespace penncloud::mail {

struct ImapServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port
  int max_connections = 256;
  // RFC 9051 5.4: at least 30 minutes; IDLE clients re-issue it every 29.
  std::chrono::seconds idle_timeout{31 * 60};
  std::chrono::milliseconds poll_interval{200};  // IDLE's look at the folder's counters
  size_t max_line_bytes = 64 << 10;
  boost::asio::ssl::context* tls = nullptr;  // null: no STARTTLS
  bool implicit_tls = false;
  std::function<void()> on_refused;
  AddressLimits* limits = nullptr;  // per-address connection caps; null: none
};

using ImapSessionFactory = std::function<std::unique_ptr<ImapSession>(const std::string& peer)>;

class ImapServer {
 public:
  ImapServer(ImapServerOptions options, ImapSessionFactory factory);
  ~ImapServer();

  absl::Status Start();
  // Stops accepting, says BYE to every session and waits for their threads.
  void Stop();
  int port() const { return port_; }
  size_t connections();

 private:
  void AcceptLoop();
  void Serve(boost::asio::ip::tcp::socket socket, uint64_t id, std::string peer);
  void ReapIdle();
  void Touch(uint64_t id);

  const ImapServerOptions options_;
  const ImapSessionFactory factory_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  int port_ = 0;
  std::thread accept_thread_, reaper_thread_;
  std::atomic<bool> stopping_{false};

  struct Connection {
    int fd;
    std::chrono::steady_clock::time_point last_active;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Connection> connections_;  // GUARDED_BY(mu_)
  uint64_t next_id_ = 0;                        // GUARDED_BY(mu_)
};

}  // namespace penncloud::mail
