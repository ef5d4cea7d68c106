// A TCP server for line-based protocols (SMTP, POP3) around a session state machine:
// one thread per connection with blocking Boost.Asio I/O, in-band upgrade to TLS or TLS
// from the first byte (implicit TLS, RFC 8314), replies batched per read so pipelined
// commands get pipelined answers, a cap on line length, on connections in all and per
// client address, and an idle timeout.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "mail/address_limits.h"
#include "mail/listener.h"
#include "mail/session_output.h"

namespace penncloud::mail {

// What the server drives: one per connection.
class LineProtocol {
 public:
  virtual ~LineProtocol() = default;
  virtual std::string Greeting() = 0;
  // `line` is without its line end; `bare_lf` says it ended in LF alone, not CRLF.
  virtual SessionOutput OnLine(std::string_view line, bool bare_lf) = 0;
  virtual SessionOutput OnLineTooLong() = 0;
  // The TLS handshake finished: after a STARTTLS/STLS reply, or (implicit TLS) before
  // Greeting is asked for.
  virtual void OnTlsStarted() = 0;
  virtual void OnDisconnect() {}
  // Lines longer than this (not counting their CRLF) are not kept: OnLineTooLong is called
  // instead of OnLine once they end.
  virtual size_t MaxLineBytes() const = 0;
  // True while the client is in the middle of something a shutdown lets finish (an SMTP
  // message inside DATA): Stop() closes such a session only once it is done, within a bound.
  virtual bool Busy() const { return false; }
  // Said to a session closed for shutdown ("" = close without a word).
  virtual std::string ShutdownNotice() const { return ""; }
};

struct LineServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port (see LineServer::port)
  int max_connections = 256;
  std::chrono::seconds idle_timeout{300};
  boost::asio::ssl::context* tls = nullptr;  // null: no STARTTLS/STLS
  bool implicit_tls = false;         // TLS handshake on connect, then the greeting (needs `tls`)
  std::string busy_reply;            // sent to connections over a cap
  std::function<void()> on_refused;  // called per connection refused over a cap
  // Per-address connection caps, shared with the process's other listeners; null: none.
  AddressLimits* limits = nullptr;
};

using ProtocolFactory = std::function<std::unique_ptr<LineProtocol>(const std::string& peer)>;

class LineServer {
 public:
  LineServer(LineServerOptions options, ProtocolFactory factory);

  absl::Status Start() { return listener_.Start(); }
  // Stops accepting and drains: idle sessions get the protocol's ShutdownNotice and are
  // closed at once, busy ones when they finish or after `drain`; then waits for their
  // threads.
  void Stop(std::chrono::milliseconds drain = std::chrono::seconds(10)) { listener_.Stop(drain); }
  int port() const { return listener_.port(); }
  size_t connections() { return listener_.connections(); }

 private:
  void Serve(boost::asio::ip::tcp::socket& socket, uint64_t id, const std::string& peer);

  const LineServerOptions options_;
  const ProtocolFactory factory_;
  Listener listener_;  // last: its threads call Serve, which reads the fields above
};

}  // namespace penncloud::mail
