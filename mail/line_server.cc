#include "mail/line_server.h"

#include "mail/server_stream.h"

namespace penncloud::mail {

namespace {

ListenerOptions ListenerOptionsOf(const LineServerOptions& o) {
  ListenerOptions listen;
  listen.address = o.address;
  listen.port = o.port;
  listen.max_connections = o.max_connections;
  listen.idle_timeout = o.idle_timeout;
  listen.busy_reply = o.busy_reply;
  listen.implicit_tls = o.implicit_tls;
  listen.on_refused = o.on_refused;
  listen.limits = o.limits;
  return listen;
}

}  // namespace

LineServer::LineServer(LineServerOptions options, ProtocolFactory factory)
    : options_(std::move(options)),
      factory_(std::move(factory)),
      listener_(ListenerOptionsOf(options_),
                [this](boost::asio::ip::tcp::socket& socket, uint64_t id, const std::string& peer) {
                  Serve(socket, id, peer);
                }) {}

void LineServer::Serve(boost::asio::ip::tcp::socket& socket, uint64_t id, const std::string& peer) {
  std::unique_ptr<LineProtocol> protocol = factory_(peer);
  ServerStream stream(socket, peer);
  auto start_tls = [&] {
    if (!stream.StartTls(*options_.tls)) return false;
    protocol->OnTlsStarted();
    return true;
  };

  // RFC 8314: on an implicit-TLS port the handshake comes first; the greeting is the first
  // thing sent inside it.
  bool open = !(options_.implicit_tls && options_.tls != nullptr) || start_tls();
  open = open && stream.Write(protocol->Greeting());
  std::string in;
  bool discarding = false;  // inside a line that grew past MaxLineBytes
  char buffer[16384];
  while (open) {
    size_t n = stream.ReadSome(buffer, sizeof buffer);
    if (n == 0) {
      if (listener_.stopping()) stream.Write(protocol->ShutdownNotice());  // Stop() ended this read
      break;
    }
    listener_.Touch(id);
    in.append(buffer, n);
    std::string out;
    size_t start = 0;
    while (open) {
      size_t end = in.find('\n', start);
      if (end == std::string::npos) break;
      std::string_view line(in.data() + start, end - start);
      start = end + 1;
      bool bare_lf = line.empty() || line.back() != '\r';
      if (!bare_lf) line.remove_suffix(1);
      SessionOutput reply;
      // A line that arrived whole in one read is held to the cap as well as one that grew
      // across reads (the `discarding` case).
      if (discarding || line.size() > protocol->MaxLineBytes()) {
        discarding = false;
        reply = protocol->OnLineTooLong();
      } else {
        reply = protocol->OnLine(line, bare_lf);
      }
      out += reply.text;
      if (reply.close) {
        stream.Write(out);
        open = false;
      } else if (reply.start_tls && options_.tls != nullptr) {
        open = stream.Write(out);
        out.clear();
        // RFC 3207 5 / RFC 2595 3.1: anything the client sent before the handshake is
        // discarded, so nobody can inject commands into the protected session.
        in.clear();
        start = 0;
        open = open && start_tls();
      }
    }
    if (!open) break;
    in.erase(0, start);
    // The partial line may still end in the CR of its CRLF, which the cap does not count.
    if (in.size() > protocol->MaxLineBytes() + 1) {
      discarding = true;
      in.clear();
    }
    // Busy is recorded before the reply goes out: a client that has read "354" may send its
    // message and see a SIGTERM at once, and a drain that still took the session for idle
    // would cut that message off with 421.
    const bool closing = listener_.ClosingForShutdown(id, protocol->Busy());
    if (!stream.Write(out)) break;
    if (closing) {
      stream.Write(protocol->ShutdownNotice());
      break;
    }
  }
  protocol->OnDisconnect();
}

}  // namespace penncloud::mail
