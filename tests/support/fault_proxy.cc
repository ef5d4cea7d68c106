#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace penncloud::testing {

struct FaultProxy::Link {
  int a = -1;  // accepted side
  int b = -1;  // target side
  std::thread pump;
  std::atomic<bool> done{false};
  void Shut() {
    ::shutdown(a, SHUT_RDWR);
    ::shutdown(b, SHUT_RDWR);
  }
};

namespace {

// Copies bytes both ways until either side closes or the link is shut.
void Pump(int a, int b, std::atomic<bool>* done) {
  char buf[64 * 1024];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (true) {
    int n = ::poll(fds, 2, 200);
    if (n < 0) break;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t got = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (got <= 0) {
        closed = true;
        break;
      }
      ssize_t off = 0;
      while (off < got) {
        ssize_t put = ::send(fds[1 - i].fd, buf + off, got - off, MSG_NOSIGNAL);
        if (put <= 0) {
          closed = true;
          break;
        }
        off += put;
      }
    }
    if (closed) break;
  }
  ::shutdown(a, SHUT_RDWR);
  ::shutdown(b, SHUT_RDWR);
  *done = true;
}

}  // namespace

FaultProxy::FaultProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  accept_thread_.join();
  ::close(listen_fd_);
  CloseAll();
}

void FaultProxy::SetBlocked(bool blocked) {
  blocked_ = blocked;
  if (blocked) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& link : links_) link->Shut();
  }
}

void FaultProxy::CloseAll() {
  std::vector<std::shared_ptr<Link>> links;
  {
    std::lock_guard<std::mutex> lock(mu_);
    links.swap(links_);
  }
  for (auto& link : links) {
    link->Shut();
    link->pump.join();
    ::close(link->a);
    ::close(link->b);
  }
}

void FaultProxy::AcceptLoop() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    int a = ::accept(listen_fd_, nullptr, nullptr);
    if (a < 0) continue;
    if (blocked_ || stop_) {
      ::close(a);
      continue;
    }
    int b = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(target_port_));
    if (::connect(b, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(a);
      ::close(b);
      continue;
    }
    int one = 1;
    ::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto link = std::make_shared<Link>();
    link->a = a;
    link->b = b;
    link->pump = std::thread(Pump, a, b, &link->done);
    std::lock_guard<std::mutex> lock(mu_);
    // Reap finished links so a long test does not pile up threads and descriptors.
    for (auto it = links_.begin(); it != links_.end();) {
      if ((*it)->done) {
        (*it)->pump.join();
        ::close((*it)->a);
        ::close((*it)->b);
        it = links_.erase(it);
      } else {
        ++it;
      }
    }
    links_.push_back(std::move(link));
  }
}

}  // namespace penncloud::testing
