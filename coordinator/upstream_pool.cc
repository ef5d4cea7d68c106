#include "coordinator/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace penncloud::coordinator {

using tcp = boost::asio::ip::tcp;

std::shared_ptr<const Candidates> UpstreamPool::Healthy(Registry* registry, size_t thread,
                                                        bool fresh) {
  const Clock::time_point now = Clock::now();
  ThreadView& view = views_[thread];
  const uint64_t invalidations = invalidations_.load(std::memory_order_acquire);
  if (fresh || !view.healthy || now >= view.refresh_at || view.invalidations != invalidations) {
    auto next = std::make_shared<Candidates>();
    std::lock_guard lock(mu_);
    for (const auto& [address, load] : registry->Healthy("frontend", now)) {
      auto& entry = upstreams_[address];
      if (!entry) entry = std::make_unique<Upstream>(address, threads_);
      next->push_back({entry.get(), load.in_flight});
    }
    view.healthy = std::move(next);
    view.refresh_at = now + kRefresh;
    view.invalidations = invalidations;
  }
  return view.healthy;
}

void UpstreamPool::Invalidate() { invalidations_.fetch_add(1, std::memory_order_release); }

IdleList& UpstreamPool::Current(Upstream* u, size_t thread) {
  IdleList& list = u->idle[thread];
  const uint64_t forgotten = u->forgotten.load(std::memory_order_acquire);
  if (list.generation != forgotten) {
    list.sockets.clear();
    list.generation = forgotten;
  }
  return list;
}

std::optional<tcp::socket> UpstreamPool::Take(Upstream* u, size_t thread, Clock::time_point now) {
  std::vector<IdleSocket>& idle = Current(u, thread).sockets;
  while (!idle.empty()) {
    IdleSocket s = std::move(idle.back());
    idle.pop_back();
    if (now - s.since < kMaxIdleAge && IdleConnectionQuiet(s.socket)) return std::move(s.socket);
  }
  return std::nullopt;
}

void UpstreamPool::Give(Upstream* u, size_t thread, tcp::socket socket, Clock::time_point now) {
  std::vector<IdleSocket>& idle = Current(u, thread).sockets;
  if (idle.size() < max_idle_) idle.push_back({std::move(socket), now});
}

void UpstreamPool::Forget(Upstream* u) { u->forgotten.fetch_add(1, std::memory_order_release); }

bool IdleConnectionQuiet(tcp::socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace penncloud::coordinator
