#include "coordinator/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace penncloud::coordinator {

using tcp = boost::asio::ip::tcp;

std::shared_ptr<const Candidates> UpstreamPool::Healthy(Registry* registry, bool fresh) {
  Clock::time_point now = Clock::now();
  std::lock_guard lock(mu_);
  if (fresh || !healthy_ || now >= refresh_at_) {
    auto next = std::make_shared<Candidates>();
    for (const auto& [address, load] : registry->Healthy("frontend", now)) {
      auto& entry = upstreams_[address];
      if (!entry) entry = std::make_unique<Upstream>(address, threads_);
      next->push_back({entry.get(), load.in_flight});
    }
    healthy_ = std::move(next);
    refresh_at_ = now + kRefresh;
  }
  return healthy_;
}

void UpstreamPool::Invalidate() {
  std::lock_guard lock(mu_);
  healthy_.reset();
}

std::optional<tcp::socket> UpstreamPool::Take(Upstream* u, size_t thread, Clock::time_point now) {
  std::lock_guard lock(u->mu);
  auto& idle = u->idle[thread];
  while (!idle.empty()) {
    IdleSocket s = std::move(idle.back());
    idle.pop_back();
    if (now - s.since < kMaxIdleAge && IdleConnectionQuiet(s.socket)) return std::move(s.socket);
  }
  return std::nullopt;
}

void UpstreamPool::Give(Upstream* u, size_t thread, tcp::socket socket, Clock::time_point now) {
  std::lock_guard lock(u->mu);
  auto& idle = u->idle[thread];
  if (idle.size() < max_idle_) idle.push_back({std::move(socket), now});
}

void UpstreamPool::Forget(Upstream* u) {
  std::lock_guard lock(u->mu);
  for (auto& idle : u->idle) idle.clear();
}

bool IdleConnectionQuiet(tcp::socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace penncloud::coordinator
