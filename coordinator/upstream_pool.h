// The frontends the proxy may use, idle keep-alive connections to each, and the requests
// in flight to each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/registry.h"
#include "coordinator/upstream.h"

namespace penncloud::coordinator {

using Candidates = std::vector<Candidate>;

class UpstreamPool {
 public:
  // `threads`: the proxy's I/O threads (idle connections are kept per thread).
  UpstreamPool(size_t max_idle_per_thread, size_t threads)
      : max_idle_(max_idle_per_thread), threads_(threads), views_(threads) {}

  // The healthy frontends, as I/O thread `thread` sees them. Asking the Registry copies
  // every address under its mutex; done per request that was the proxy's largest cost
  // after the kernel's, so each thread keeps the list and re-reads it at most every
  // kRefresh, or at once when `fresh` (the caller found no usable frontend in it) or after
  // Invalidate (a frontend failed). Heartbeats change the loads only once a second, so
  // nothing of value is lost. Per thread, so a request takes no lock and shares no
  // reference count with the other threads.
  std::shared_ptr<const Candidates> Healthy(Registry* registry, size_t thread, bool fresh);
  void Invalidate();

  // An idle connection to `u` opened on I/O thread `thread`, if one is still usable: not
  // near the frontend's 60 s idle timeout, and not closed (or written to) by the frontend
  // while it sat here. A request sent on a connection the frontend had already closed
  // would fail after it was written, when the proxy can no longer tell whether the
  // frontend read it; checking first keeps such requests repeatable.
  std::optional<boost::asio::ip::tcp::socket> Take(Upstream* u, size_t thread,
                                                   Clock::time_point now);
  void Give(Upstream* u, size_t thread, boost::asio::ip::tcp::socket socket, Clock::time_point now);
  // Drops every idle connection to `u` (it failed); each thread closes its own when it next
  // takes or gives one to `u`.
  void Forget(Upstream* u);

  uint64_t NextTurn() { return turn_.fetch_add(1, std::memory_order_relaxed); }

  static constexpr std::chrono::seconds kMaxIdleAge{30};

 private:
  static constexpr std::chrono::milliseconds kRefresh{100};

  // What one I/O thread last read of the healthy list; only that thread touches it.
  struct alignas(64) ThreadView {
    std::shared_ptr<const Candidates> healthy;
    Clock::time_point refresh_at;
    uint64_t invalidations = 0;  // invalidations_ when read
  };

  // Keeps `u`'s idle list of `thread` free of connections from before its last Forget.
  static IdleList& Current(Upstream* u, size_t thread);

  const size_t max_idle_;
  const size_t threads_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Upstream>> upstreams_;  // GUARDED_BY(mu_)
  std::vector<ThreadView> views_;                               // per I/O thread
  std::atomic<uint64_t> invalidations_{0};
  std::atomic<uint64_t> turn_{0};
};

// True if nothing has happened on an idle connection: no end of stream, no error and no
// unexpected bytes waiting. Never blocks.
bool IdleConnectionQuiet(boost::asio::ip::tcp::socket& socket);

}  // namespace penncloud::coordinator
