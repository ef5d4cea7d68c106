#include "mail/imap_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "mail/listener.h"

namespace penncloud::mail {

namespace asio = boost::asio;
using asio::ip::tcp;

ImapServer::ImapServer(ImapServerOptions options, ImapSessionFactory factory)
    : options_(std::move(options)),
      factory_(std::move(factory)),
      workers_(static_cast<size_t>(std::max(1, options_.worker_threads))),
      acceptor_(asio::make_strand(io_)),
      accept_retry_(acceptor_.get_executor()),
      reaper_(asio::make_strand(io_)) {
  IdleWaker* waker = options_.idle_waker;
  if (waker == nullptr) {
    polling_waker_ = std::make_unique<PollingIdleWaker>(io_, options_.poll_interval);
    waker = polling_waker_.get();
  }
  shared_ = {.tls = options_.tls != nullptr ? options_.tls->native_handle() : nullptr,
             .implicit_tls = options_.implicit_tls,
             .max_line_bytes = options_.max_line_bytes,
             .workers = &workers_,
             .waker = waker,
             .closed = [this](ImapConnection& c) { Closed(c); }};
}

ImapServer::~ImapServer() { Stop(); }

absl::Status ImapServer::Start() {
  if (absl::Status s = Listen(acceptor_, options_.address, options_.port); !s.ok()) return s;
  port_ = acceptor_.local_endpoint().port();
  asio::post(acceptor_.get_executor(), [this] { Accept(); });
  asio::post(reaper_.get_executor(), [this] { ReapIdle(); });
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    io_threads_.emplace_back([this] { io_.run(); });
  }
  return absl::OkStatus();
}

void ImapServer::Stop() {
  if (stopping_.exchange(true) || io_threads_.empty()) return;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
  });
  asio::post(reaper_.get_executor(), [this] { reaper_.cancel(); });
  for (auto& c : Snapshot()) c->Shutdown();
  WaitForClosed(std::chrono::seconds(10));
  for (auto& c : Snapshot()) c->Close();
  WaitForClosed(std::chrono::seconds(10));
  // Commands still on a worker finish; their connections are closed already.
  workers_.join();
  io_.stop();
  for (std::thread& t : io_threads_) t.join();
}

size_t ImapServer::connections() {
  std::lock_guard lock(mu_);
  return connections_.size();
}

void ImapServer::Accept() {
  acceptor_.async_accept(asio::make_strand(io_),
                         [this](boost::system::error_code ec, tcp::socket socket) {
                           if (stopping_) return;
                           if (!ec) {
                             OnAccepted(std::move(socket));
                             return Accept();
                           }
                           // E.g. EMFILE: back off rather than spin.
                           accept_retry_.expires_after(std::chrono::milliseconds(10));
                           accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
                             if (!wait_ec && !stopping_) Accept();
                           });
                         });
}

void ImapServer::OnAccepted(tcp::socket socket) {
  boost::system::error_code ec;
  std::string peer = socket.remote_endpoint(ec).address().to_string();
  if (ec) return;  // already gone
  if (options_.limits != nullptr && !options_.limits->OpenConnection(peer)) {
    return Refuse(socket);
  }
  std::unique_lock lock(mu_);
  if (connections_.size() >= static_cast<size_t>(options_.max_connections)) {
    lock.unlock();
    if (options_.limits != nullptr) options_.limits->CloseConnection(peer);
    return Refuse(socket);
  }
  uint64_t id = next_id_++;
  auto connection =
      std::make_shared<ImapConnection>(shared_, std::move(socket), id, peer, factory_(peer));
  connections_[id] = connection;
  lock.unlock();
  connection->Start();
}

void ImapServer::Refuse(tcp::socket& socket) {
  if (options_.on_refused) options_.on_refused();
  // Left unsaid on implicit-TLS ports, where the client expects a handshake, not text. The
  // reply fits any socket buffer: one non-blocking try, no wait.
  if (options_.implicit_tls) return;
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(std::string_view("* BYE Too many connections, try later\r\n")),
                    ec);
}

void ImapServer::ReapIdle() {
  auto now = std::chrono::steady_clock::now();
  for (auto& c : Snapshot()) {
    if (now - c->last_active() > options_.idle_timeout) c->Close();
  }
  reaper_.expires_after(std::chrono::seconds(1));
  reaper_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopping_) ReapIdle();
  });
}

void ImapServer::Closed(ImapConnection& connection) {
  if (options_.limits != nullptr) options_.limits->CloseConnection(connection.peer());
  std::lock_guard lock(mu_);
  connections_.erase(connection.id());
  cv_.notify_all();
}

void ImapServer::WaitForClosed(std::chrono::milliseconds bound) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, bound, [this] { return connections_.empty(); });
}

std::vector<std::shared_ptr<ImapConnection>> ImapServer::Snapshot() {
  std::vector<std::shared_ptr<ImapConnection>> all;
  std::lock_guard lock(mu_);
  all.reserve(connections_.size());
  for (auto& [id, weak] : connections_) {
    if (auto c = weak.lock()) all.push_back(std::move(c));
  }
  return all;
}

}  // namespace penncloud::mail
