// The TCP server around ImapSession, asynchronous so that an idle connection costs a few
// KiB, not a thread: `io_threads` threads run every socket (non-blocking, one strand per
// connection, ImapConnection), and `worker_threads` threads run the sessions' commands,
// which call the store and block (a connection queues one job at a time, so the queue is
// bounded by the connection cap). STARTTLS or TLS from the first byte (port 993-style);
// caps on connections in all and per client address; an idle timeout; IDLE sessions are
// woken by an IdleWaker (by default a poll every `poll_interval`).
//
// It differs from LineServer (SMTP, POP3) in the two ways IMAP needs: literals are passed
// through raw whatever their length (never split into lines), and an idling session hears
// of news without any input.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "mail/address_limits.h"
#include "mail/idle_waker.h"
#include "mail/imap_connection.h"
#include "mail/imap_session.h"

namespace penncloud::mail {

struct ImapServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port
  int max_connections = 256;
  // RFC 9051 5.4: at least 30 minutes; IDLE clients re-issue it every 29.
  std::chrono::seconds idle_timeout{31 * 60};
  std::chrono::milliseconds poll_interval{200};  // the default waker's look at the folder
  IdleWaker* idle_waker = nullptr;               // null: poll every poll_interval
  size_t max_line_bytes = 64 << 10;
  boost::asio::ssl::context* tls = nullptr;  // null: no STARTTLS
  bool implicit_tls = false;
  std::function<void()> on_refused;
  AddressLimits* limits = nullptr;  // per-address connection caps; null: none
  int io_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int worker_threads = 16;  // commands running at once (each may wait on the store)
};

using ImapSessionFactory = std::function<std::unique_ptr<ImapSession>(const std::string& peer)>;

class ImapServer {
 public:
  ImapServer(ImapServerOptions options, ImapSessionFactory factory);
  ~ImapServer();
  ImapServer(const ImapServer&) = delete;
  ImapServer& operator=(const ImapServer&) = delete;

  absl::Status Start();
  // Stops accepting, says BYE to every session (one running a command finishes it first),
  // waits up to 10 s for them to close, closes the rest, then joins every thread.
  void Stop();
  int port() const { return port_; }
  size_t connections();

 private:
  void Accept();
  void OnAccepted(boost::asio::ip::tcp::socket socket);
  void Refuse(boost::asio::ip::tcp::socket& socket);
  void ReapIdle();
  void Closed(ImapConnection& connection);
  // Waits until no connection is left or `bound` has passed.
  void WaitForClosed(std::chrono::milliseconds bound);
  std::vector<std::shared_ptr<ImapConnection>> Snapshot();

  const ImapServerOptions options_;
  const ImapSessionFactory factory_;
  // Before every member that uses it: destroyed after them, with the handlers still queued.
  boost::asio::io_context io_;
  boost::asio::thread_pool workers_;
  std::unique_ptr<IdleWaker> polling_waker_;  // when options_.idle_waker is null
  ImapConnection::Shared shared_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // on the acceptor's strand
  boost::asio::steady_timer reaper_;
  std::vector<std::thread> io_threads_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::weak_ptr<ImapConnection>> connections_;  // GUARDED_BY(mu_)
  uint64_t next_id_ = 0;                                           // on the acceptor's strand
};

}  // namespace penncloud::mail
