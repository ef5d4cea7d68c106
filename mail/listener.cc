#include "mail/listener.h"

#include <sys/socket.h>

#include <boost/asio/write.hpp>

namespace penncloud::mail {

namespace asio = boost::asio;
using asio::ip::tcp;

Listener::Listener(ListenerOptions options, Serve serve)
    : options_(std::move(options)), serve_(std::move(serve)) {}

Listener::~Listener() { Stop(std::chrono::seconds(10)); }

absl::Status Listen(tcp::acceptor& acceptor, const std::string& address, int port) {
  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(address, ec), static_cast<unsigned short>(port));
  if (ec) return absl::InvalidArgumentError("bad listen address: " + ec.message());
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError("cannot listen: " + ec.message());
  return absl::OkStatus();
}

absl::Status Listener::Start() {
  if (absl::Status s = Listen(acceptor_, options_.address, options_.port); !s.ok()) return s;
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  reaper_thread_ = std::thread([this] { ReapIdle(); });
  return absl::OkStatus();
}

void Listener::Stop(std::chrono::milliseconds drain) {
  if (stopping_.exchange(true)) return;
  // shutdown() wakes a thread blocked in accept() or read() on that socket.
  if (acceptor_.is_open()) ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  std::unique_lock lock(mu_);
  draining_ = true;
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

size_t Listener::connections() {
  std::lock_guard lock(mu_);
  return connections_.size();
}

void Listener::Touch(uint64_t id) {
  std::lock_guard lock(mu_);
  connections_[id].last_active = std::chrono::steady_clock::now();
}

bool Listener::ClosingForShutdown(uint64_t id, bool busy) {
  std::lock_guard lock(mu_);
  connections_[id].busy = busy;
  return draining_ && !busy;
}

void Listener::AcceptLoop() {
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
      Run(std::move(s), id, std::move(peer));
    }).detach();
  }
}

void Listener::ReapIdle() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    auto now = std::chrono::steady_clock::now();
    for (auto& [id, c] : connections_) {
      if (now - c.last_active > options_.idle_timeout) ::shutdown(c.fd, SHUT_RDWR);
    }
  }
}

void Listener::Run(tcp::socket socket, uint64_t id, std::string peer) {
  serve_(socket, id, peer);
  // No TLS close_notify exchange: a vanished peer must not hold this thread.
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  if (options_.limits != nullptr) options_.limits->CloseConnection(peer);
  std::lock_guard lock(mu_);
  connections_.erase(id);
  cv_.notify_all();
}

}  // namespace penncloud::mail
