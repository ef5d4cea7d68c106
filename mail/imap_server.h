// The TCP server around ImapSession. Its loop differs from LineServer's (SMTP, POP3) in the two
// ways IMAP needs: literals are passed through as raw bytes of any length (never split
// into lines), and a session waiting in IDLE is polled every `poll_interval` while its
// connection is quiet, so news reaches the client without any input. One thread per
// connection, blocking I/O; STARTTLS or TLS from the first byte (port 993-style);
// caps on connections in all and per client address; an idle timeout.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "mail/address_limits.h"
#include "mail/imap_session.h"
#include "mail/listener.h"

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

  absl::Status Start() { return listener_.Start(); }
  // Stops accepting, says BYE to every session and waits for their threads.
  void Stop() { listener_.Stop(std::chrono::seconds(10)); }
  int port() const { return listener_.port(); }
  size_t connections() { return listener_.connections(); }

 private:
  void Serve(boost::asio::ip::tcp::socket& socket, uint64_t id, const std::string& peer);

  const ImapServerOptions options_;
  const ImapSessionFactory factory_;
  Listener listener_;  // last: its threads call Serve, which reads the fields above
};

}  // namespace penncloud::mail
