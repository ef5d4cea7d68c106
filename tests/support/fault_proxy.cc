#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>

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

using Clock = std::chrono::steady_clock;

bool SendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t put = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (put <= 0) return false;
    off += static_cast<size_t>(put);
  }
  return true;
}

sockaddr_in Ipv4(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// While held, a direction reads on until this much waits in it; then its sender's kernel
// buffers fill and it blocks, as behind a full TCP window.
constexpr size_t kMaxHeldBytes = 16 << 20;

// Copies bytes both ways, each chunk passed on `delay_us` after it was read and not while
// `held`, until either side closes (what it sent before is still passed on) or the link is
// shut.
void Pump(int a, int b, const std::atomic<int64_t>* delay_us, const std::atomic<bool>* held,
          std::atomic<bool>* done) {
  struct Chunk {
    Clock::time_point due;
    std::string bytes;
  };
  const int fd[2] = {a, b};
  std::deque<Chunk> queued[2];  // queued[i]: read from fd[i], for the other side
  size_t queued_bytes[2] = {0, 0};
  bool closed = false;
  char buf[64 * 1024];
  while (true) {
    const bool holding = held->load();
    // While holding, look again soon: the release should not wait for a whole timeout.
    int timeout_ms = holding ? 5 : 200;
    for (const auto& q : queued) {
      if (q.empty() || holding) continue;
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(q.front().due - Clock::now());
      timeout_ms = std::clamp(static_cast<int>(wait.count()), 0, timeout_ms);
    }
    // A closed side is no longer polled (it would report end-of-stream at once, forever),
    // nor a side whose bytes pile up behind a hold.
    pollfd fds[2];
    for (int i = 0; i < 2; ++i) {
      const bool full = queued_bytes[i] >= kMaxHeldBytes;
      fds[i] = {closed || full ? -1 : fd[i], POLLIN, 0};
    }
    if (::poll(fds, 2, timeout_ms) < 0) break;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t got = ::recv(fd[i], buf, sizeof buf, 0);
      if (got <= 0) {
        closed = true;
        break;
      }
      const auto due = Clock::now() + std::chrono::microseconds(delay_us->load());
      queued[i].push_back({due, std::string(buf, static_cast<size_t>(got))});
      queued_bytes[i] += static_cast<size_t>(got);
    }
    bool failed = false;
    const auto now = Clock::now();
    for (int i = 0; i < 2 && !failed && !held->load(); ++i) {
      while (!queued[i].empty() && queued[i].front().due <= now) {
        if (!SendAll(fd[1 - i], queued[i].front().bytes)) {
          failed = true;
          break;
        }
        queued_bytes[i] -= queued[i].front().bytes.size();
        queued[i].pop_front();
      }
    }
    if (failed || (closed && queued[0].empty() && queued[1].empty())) break;
  }
  ::shutdown(a, SHUT_RDWR);
  ::shutdown(b, SHUT_RDWR);
  *done = true;
}

}  // namespace

FaultProxy::FaultProxy(int target_port) : FaultProxy("127.0.0.1", "127.0.0.1", target_port) {}

FaultProxy::FaultProxy(const std::string& listen_host, const std::string& target_host,
                       int target_port)
    : target_host_(target_host), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = Ipv4(listen_host, 0);
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
    sockaddr_in addr = Ipv4(target_host_, target_port_);
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
    link->pump = std::thread(Pump, a, b, &delay_us_, &held_, &link->done);
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
