#include "mail/line_server.h"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "common/log.h"

namespace penncloud::mail {

namespace asio = boost::asio;
using asio::ip::tcp;

LineServer::LineServer(LineServerOptions options, ProtocolFactory factory)
    : options_(std::move(options)), factory_(std::move(factory)) {}

LineServer::~LineServer() { Stop(); }

absl::Status LineServer::Start() {
  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(options_.address, ec),
                         static_cast<unsigned short>(options_.port));
  if (ec) return absl::InvalidArgumentError("bad listen address: " + ec.message());
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError("cannot listen: " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  reaper_thread_ = std::thread([this] { ReapIdle(); });
  return absl::OkStatus();
}

void LineServer::Stop(std::chrono::milliseconds drain) {
  if (stopping_.exchange(true)) return;
  // shutdown() wakes a thread blocked in accept() or read() on that socket.
  if (acceptor_.is_open()) ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  std::unique_lock lock(mu_);
  draining_ = true;
  // An idle session's read ends (its thread says goodbye over the still-open write side);
  // a busy one reaches ClosingForShutdown when its transaction is done.
  for (auto& [id, c] : connections_) {
    if (!c.busy) ::shutdown(c.fd, SHUT_RD);
  }
  auto all_closed = [this] { return connections_.empty(); };
  cv_.wait_for(lock, drain, all_closed);
  for (auto& [id, c] : connections_) ::shutdown(c.fd, SHUT_RDWR);
  cv_.wait_for(lock, std::chrono::seconds(10), all_closed);
  cv_.notify_all();
  lock.unlock();
  if (reaper_thread_.joinable()) reaper_thread_.join();
  boost::system::error_code ec;
  acceptor_.close(ec);
}

size_t LineServer::connections() {
  std::lock_guard lock(mu_);
  return connections_.size();
}

void LineServer::AcceptLoop() {
  while (!stopping_) {
    tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (stopping_) return;
    if (ec) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // e.g. EMFILE: back off
      continue;
    }
    std::string peer = socket.remote_endpoint(ec).address().to_string();
    if (ec) continue;  // already gone
    auto refuse = [&] {
      if (options_.on_refused) options_.on_refused();
      // On an implicit-TLS port the client expects a handshake, not text: just close.
      if (!options_.implicit_tls) asio::write(socket, asio::buffer(options_.busy_reply), ec);
    };
    if (options_.limits != nullptr && !options_.limits->OpenConnection(peer)) {
      refuse();
      continue;
    }
    std::unique_lock lock(mu_);
    if (connections_.size() >= static_cast<size_t>(options_.max_connections)) {
      lock.unlock();
      if (options_.limits != nullptr) options_.limits->CloseConnection(peer);
      refuse();
      continue;
    }
    uint64_t id = next_id_++;
    connections_[id] = {socket.native_handle(), std::chrono::steady_clock::now()};
    lock.unlock();
    std::thread([this, s = std::move(socket), id, peer = std::move(peer)]() mutable {
      Serve(std::move(s), id, std::move(peer));
    }).detach();
  }
}

bool LineServer::ClosingForShutdown(uint64_t id, bool busy) {
  std::lock_guard lock(mu_);
  connections_[id].busy = busy;
  return draining_ && !busy;
}

void LineServer::ReapIdle() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    auto now = std::chrono::steady_clock::now();
    for (auto& [id, c] : connections_) {
      if (now - c.last_active > options_.idle_timeout) ::shutdown(c.fd, SHUT_RDWR);
    }
  }
}

void LineServer::Serve(tcp::socket socket, uint64_t id, std::string peer) {
  boost::system::error_code ec;
  std::unique_ptr<LineProtocol> protocol = factory_(peer);
  std::optional<asio::ssl::stream<tcp::socket&>> tls;

  auto write = [&](const std::string& text) {
    if (text.empty()) return true;
    if (tls) {
      asio::write(*tls, asio::buffer(text), ec);
    } else {
      asio::write(socket, asio::buffer(text), ec);
    }
    return !ec;
  };
  auto touch = [&] {
    std::lock_guard lock(mu_);
    connections_[id].last_active = std::chrono::steady_clock::now();
  };

  bool open = true;
  if (options_.implicit_tls && options_.tls != nullptr) {
    // RFC 8314: the handshake comes first; the greeting is the first thing sent inside it.
    tls.emplace(socket, *options_.tls);
    tls->handshake(asio::ssl::stream_base::server, ec);
    if (ec) {
      PC_LOG(kInfo, "tls.handshake_failed")("peer", peer)("error", ec.message());
      open = false;
    } else {
      protocol->OnTlsStarted();
    }
  }
  open = open && write(protocol->Greeting());
  std::string in;
  bool discarding = false;  // inside a line that grew past MaxLineBytes
  char buffer[16384];
  while (open) {
    size_t n =
        tls ? tls->read_some(asio::buffer(buffer), ec) : socket.read_some(asio::buffer(buffer), ec);
    if (ec || n == 0) {
      if (stopping_) write(protocol->ShutdownNotice());  // Stop() ended this read
      break;
    }
    touch();
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
        write(out);
        open = false;
      } else if (reply.start_tls && options_.tls != nullptr) {
        if (!write(out)) {
          open = false;
          break;
        }
        out.clear();
        // RFC 3207 5 / RFC 2595 3.1: anything the client sent before the handshake is
        // discarded, so nobody can inject commands into the protected session.
        in.clear();
        start = 0;
        tls.emplace(socket, *options_.tls);
        tls->handshake(asio::ssl::stream_base::server, ec);
        if (ec) {
          PC_LOG(kInfo, "tls.handshake_failed")("peer", peer)("error", ec.message());
          open = false;
          break;
        }
        protocol->OnTlsStarted();
      }
    }
    if (!open) break;
    in.erase(0, start);
    // The partial line may still end in the CR of its CRLF, which the cap does not count.
    if (in.size() > protocol->MaxLineBytes() + 1) {
      discarding = true;
      in.clear();
    }
    if (!write(out)) break;
    if (ClosingForShutdown(id, protocol->Busy())) {
      write(protocol->ShutdownNotice());
      break;
    }
  }
  protocol->OnDisconnect();
  // No TLS close_notify exchange: a vanished peer must not hold this thread.
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  if (options_.limits != nullptr) options_.limits->CloseConnection(peer);
  std::lock_guard lock(mu_);
  connections_.erase(id);
  cv_.notify_all();
}

}  // namespace penncloud::mail
