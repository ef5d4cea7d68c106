#include "mail/imap_server.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "common/log.h"

namespace penncloud::mail {

namespace asio = boost::asio;
using asio::ip::tcp;

ImapServer::ImapServer(ImapServerOptions options, ImapSessionFactory factory)
    : options_(std::move(options)), factory_(std::move(factory)) {}

ImapServer::~ImapServer() { Stop(); }

absl::Status ImapServer::Start() {
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

void ImapServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.is_open()) ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  std::unique_lock lock(mu_);
  // Reads end; each session thread says BYE on its way out (the write side stays open).
  for (auto& [id, c] : connections_) ::shutdown(c.fd, SHUT_RD);
  cv_.wait_for(lock, std::chrono::seconds(10), [this] { return connections_.empty(); });
  cv_.notify_all();
  lock.unlock();
  if (reaper_thread_.joinable()) reaper_thread_.join();
  boost::system::error_code ec;
  acceptor_.close(ec);
}

size_t ImapServer::connections() {
  std::lock_guard lock(mu_);
  return connections_.size();
}

void ImapServer::Touch(uint64_t id) {
  std::lock_guard lock(mu_);
  connections_[id].last_active = std::chrono::steady_clock::now();
}

void ImapServer::AcceptLoop() {
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
    if (ec) continue;
    auto refuse = [&] {
      if (options_.on_refused) options_.on_refused();
      if (!options_.implicit_tls) {
        asio::write(socket, asio::buffer(std::string("* BYE Too many connections, try later\r\n")),
                    ec);
      }
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

void ImapServer::ReapIdle() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    auto now = std::chrono::steady_clock::now();
    for (auto& [id, c] : connections_) {
      if (now - c.last_active > options_.idle_timeout) ::shutdown(c.fd, SHUT_RDWR);
    }
  }
}

void ImapServer::Serve(tcp::socket socket, uint64_t id, std::string peer) {
  boost::system::error_code ec;
  std::unique_ptr<ImapSession> session = factory_(peer);
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
  auto handshake = [&] {
    tls.emplace(socket, *options_.tls);
    tls->handshake(asio::ssl::stream_base::server, ec);
    if (ec) {
      PC_LOG(kInfo, "tls.handshake_failed")("peer", peer)("error", ec.message());
      return false;
    }
    session->OnTlsStarted();
    return true;
  };
  // Waits until input can be read, polling an idling session meanwhile. False: give up.
  auto wait_readable = [&] {
    while (session->Idling() && !stopping_) {
      if (tls && SSL_pending(tls->native_handle()) > 0) return true;
      pollfd p{socket.native_handle(), POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(options_.poll_interval.count()));
      if (ready != 0) return true;  // input, hang-up or error: the read tells which
      if (!write(session->OnPoll().text)) return false;
    }
    return true;
  };

  bool open = !(options_.implicit_tls && options_.tls != nullptr) || handshake();
  open = open && write(session->Greeting());
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
        write(out);
        out.clear();
        open = false;
      } else if (reply.start_tls && options_.tls != nullptr && !tls) {
        open = write(out);
        out.clear();
        in.clear();  // RFC 9051 6.2.1: nothing sent before the handshake may be used
        open = open && handshake();
      }
    }
    if (!open || !write(out)) break;
    if (!wait_readable()) break;
    size_t n =
        tls ? tls->read_some(asio::buffer(buffer), ec) : socket.read_some(asio::buffer(buffer), ec);
    if (ec || n == 0) {
      if (stopping_) write("* BYE Server shutting down, reconnect shortly\r\n");
      break;
    }
    Touch(id);
    in.append(buffer, n);
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  if (options_.limits != nullptr) options_.limits->CloseConnection(peer);
  std::lock_guard lock(mu_);
  connections_.erase(id);
  cv_.notify_all();
}

}  // namespace penncloud::mail
