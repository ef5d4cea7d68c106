#include "http/listener.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <memory>
#include <thread>

namespace penncloud::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(Executor acceptor_executor, size_t lanes, LaneExecutor lane_executor,
                   OnAccept on_accept)
    : lanes_(lanes == 0 ? 1 : lanes),
      lane_executor_(std::move(lane_executor)),
      on_accept_(std::move(on_accept)),
      acceptor_(std::move(acceptor_executor)) {}

absl::Status Listener::Listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  tcp::endpoint ep(net::ip::make_address(address, ec), port);
  if (ec) return absl::InvalidArgumentError("bad address: " + address);
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
  auto closed = std::make_shared<std::promise<void>>();
  net::post(acceptor_.get_executor(), [this, closed] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    closed->set_value();
  });
  closed->get_future().wait_for(std::chrono::seconds(1));
}

void Listener::Accept() {
  size_t lane = NextLane();
  acceptor_.async_accept(lane_executor_(lane),
                         [this, lane](boost::system::error_code ec, tcp::socket s) {
                           if (ec == net::error::operation_aborted) return;
                           if (!ec) {
                             s.set_option(tcp::no_delay(true), ec);
                             on_accept_(std::move(s), lane);
                           }
                           DrainBacklog();
                           Accept();
                         });
}

// Takes every client already waiting in the listen queue. One accept per turn of a busy
// event loop lets a burst of new users wait there for seconds (stress test (d): ~2,500
// queued at 3,000 users) and, past the backlog, the kernel drops their SYNs, which the
// clients resend only after 1, 3, 7, 15 s.
void Listener::DrainBacklog() {
  boost::system::error_code ec;
  for (int i = 0; i < 1024; ++i) {
    size_t lane = NextLane();
    tcp::socket s = acceptor_.accept(lane_executor_(lane), ec);
    if (ec) return;  // would_block: the queue is empty (or the acceptor closed)
    s.set_option(tcp::no_delay(true), ec);
    on_accept_(std::move(s), lane);
  }
}

bool AwaitIdle(const std::atomic<int64_t>& in_flight, std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (in_flight.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace penncloud::http
