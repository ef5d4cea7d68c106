#include "mail/imap_server.h"

#include <poll.h>

#include "mail/server_stream.h"

namespace penncloud::mail {

namespace {

ListenerOptions ListenerOptionsOf(const ImapServerOptions& o) {
  ListenerOptions listen;
  listen.address = o.address;
  listen.port = o.port;
  listen.max_connections = o.max_connections;
  listen.idle_timeout = o.idle_timeout;
  listen.busy_reply = "* BYE Too many connections, try later\r\n";
  listen.implicit_tls = o.implicit_tls;
  listen.on_refused = o.on_refused;
  listen.limits = o.limits;
  return listen;
}

}  // namespace

ImapServer::ImapServer(ImapServerOptions options, ImapSessionFactory factory)
    : options_(std::move(options)),
      factory_(std::move(factory)),
      listener_(ListenerOptionsOf(options_),
                [this](boost::asio::ip::tcp::socket& socket, uint64_t id, const std::string& peer) {
                  Serve(socket, id, peer);
                }) {}

void ImapServer::Serve(boost::asio::ip::tcp::socket& socket, uint64_t id, const std::string& peer) {
  std::unique_ptr<ImapSession> session = factory_(peer);
  ServerStream stream(socket, peer);
  auto start_tls = [&] {
    if (!stream.StartTls(*options_.tls)) return false;
    session->OnTlsStarted();
    return true;
  };
  // Waits until input can be read, polling an idling session meanwhile. False: give up.
  auto wait_readable = [&] {
    while (session->Idling() && !listener_.stopping()) {
      if (stream.HasBufferedInput()) return true;
      pollfd p{stream.native_handle(), POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(options_.poll_interval.count()));
      if (ready != 0) return true;  // input, hang-up or error: the read tells which
      if (!stream.Write(session->OnPoll().text)) return false;
    }
    return true;
  };

  bool open = !(options_.implicit_tls && options_.tls != nullptr) || start_tls();
  open = open && stream.Write(session->Greeting());
  std::string in;
  bool discarding = false;  // inside a line that grew past max_line_bytes
  char buffer[16384];
  while (open) {
    // Hand over everything complete in `in`: literal bytes, then lines.
    std::string out;
    while (open) {
      if (size_t want = session->LiteralWanted(); want > 0) {
        if (in.empty()) break;
        size_t take = std::min(want, in.size());
        out += session->OnLiteral(std::string_view(in).substr(0, take)).text;
        in.erase(0, take);
        continue;
      }
      size_t end = in.find('\n');
      if (end == std::string::npos) {
        if (in.size() > options_.max_line_bytes + 1) {
          discarding = true;
          in.clear();
        }
        break;
      }
      std::string_view line(in.data(), end);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      SessionOutput reply;
      if (discarding || line.size() > options_.max_line_bytes) {
        discarding = false;
        reply = session->OnLineTooLong();
      } else {
        reply = session->OnLine(line);
      }
      in.erase(0, end + 1);
      out += reply.text;
      if (reply.close) {
        stream.Write(out);
        out.clear();
        open = false;
      } else if (reply.start_tls && options_.tls != nullptr && !stream.encrypted()) {
        open = stream.Write(out);
        out.clear();
        in.clear();  // RFC 9051 6.2.1: nothing sent before the handshake may be used
        open = open && start_tls();
      }
    }
    if (!open || !stream.Write(out)) break;
    if (!wait_readable()) break;
    size_t n = stream.ReadSome(buffer, sizeof buffer);
    if (n == 0) {
      if (listener_.stopping()) stream.Write("* BYE Server shutting down, reconnect shortly\r\n");
      break;
    }
    listener_.Touch(id);
    in.append(buffer, n);
  }
}

}  // namespace penncloud::mail
