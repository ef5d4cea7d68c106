#include "coordinator/listener.h"

#include <boost/asio/ip/address.hpp>

namespace penncloud::coordinator {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(const std::vector<std::unique_ptr<net::io_context>>& contexts,
                   OnAccept on_accept)
    : contexts_(contexts), on_accept_(std::move(on_accept)), acceptor_(*contexts[0]) {}

absl::Status Listener::Listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  tcp::endpoint ep(net::ip::make_address(address, ec), port);
  if (ec) return absl::InvalidArgumentError("bad address");
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) acceptor_.non_blocking(true, ec);  // DrainBacklog's accepts never wait
  if (ec) return absl::UnavailableError("listen: " + ec.message());
  return absl::OkStatus();
}

uint16_t Listener::port() const { return acceptor_.local_endpoint().port(); }

void Listener::Start() { Accept(); }

void Listener::Close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void Listener::Accept() {
  size_t thread = NextThread();
  acceptor_.async_accept(contexts_[thread]->get_executor(),
                         [this, thread](boost::system::error_code ec, tcp::socket s) {
                           if (ec == net::error::operation_aborted) return;
                           if (!ec) on_accept_(std::move(s), thread);
                           DrainBacklog();
                           Accept();
                         });
}

// Takes every client already waiting in the listen queue. One accept per turn of this
// busy thread's event loop lets a burst of new users wait there for seconds (stress test
// (d): ~2,500 queued at 3,000 users) and, past the backlog, the kernel drops their SYNs,
// which the clients resend only after 1, 3, 7, 15 s.
void Listener::DrainBacklog() {
  boost::system::error_code ec;
  for (int i = 0; i < 1024; ++i) {
    size_t thread = NextThread();
    tcp::socket s = acceptor_.accept(contexts_[thread]->get_executor(), ec);
    if (ec) return;  // would_block: the queue is empty
    on_accept_(std::move(s), thread);
  }
}

}  // namespace penncloud::coordinator
